import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { RequestRecord } from "../../src/observe/request-record.ts";
import { type RelayOptions, relayAnswer } from "../../src/proxy/relay.ts";
import type { Outcome } from "../../src/proxy/upstream-call.ts";

type Answer = Extract<Outcome, { kind: "answer" }>;

/** An answer whose body arrives in timed pieces; `fail` ends it with an error instead. */
function timedAnswer(contentType: string, pieces: string[], gapMs: number, fail = false): Answer {
  async function* rest() {
    for (const piece of pieces.slice(1)) {
      await sleep(gapMs);
      yield Buffer.from(piece);
    }
    if (fail) throw new Error("socket hang up");
  }
  return {
    kind: "answer",
    status: 200,
    headers: { "content-type": contentType, "x-request-id": "req-1" },
    first: Buffer.from(pieces[0] ?? ""),
    rest: rest(),
    firstByteMs: 1,
  };
}

let server: Server;
let url: string;
let current: { outcome: Answer; options: RelayOptions; record: RequestRecord };
before(async () => {
  server = createServer((_req, res) => {
    void relayAnswer(current.outcome, res, current.options, current.record, {
      stopped: () => undefined,
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

/** Reads a response, noting when each piece arrived. */
async function readTimed(response: Response): Promise<{ text: string; at: number[] }> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const at: number[] = [];
  let text = "";
  const started = performance.now();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    at.push(performance.now() - started);
    text += decoder.decode(value);
  }
  return { text, at };
}

const event = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
const chatOptions: RelayOptions = { stream: "chat", keepAzureStreamArtefacts: false };

describe("relayAnswer", () => {
  it("writes each chunk when it arrives, not at the end", async () => {
    const pieces = ["a", "b", "c", "d"].map((c) => event({ choices: [{ delta: { content: c } }] }));
    current = {
      outcome: timedAnswer("text/event-stream", pieces, 150),
      options: chatOptions,
      record: {},
    };
    const response = await fetch(url);
    assert.equal(response.headers.get("x-accel-buffering"), "no");
    assert.equal(response.headers.get("x-request-id"), "req-1");
    const { text, at } = await readTimed(response);
    assert.equal(text, pieces.join(""));
    assert.ok(at.length >= 3, `arrived in ${at.length} reads`);
    assert.ok((at.at(-1) ?? 0) - (at[0] ?? 0) >= 300, `spread over ${at.at(-1)} ms`);
  });

  it("drops Azure's prompt-filter and annotation-only chunks from chat streams", async () => {
    const prompt = event({ choices: [], prompt_filter_results: [{ prompt_index: 0 }] });
    const content = event({ choices: [{ index: 0, delta: { content: "hi" } }] });
    const annotation = event({ choices: [{ index: 0, content_filter_offsets: {} }] });
    current = {
      outcome: timedAnswer(
        "text/event-stream",
        [prompt, content, annotation, "data: [DONE]\n\n"],
        5,
      ),
      options: chatOptions,
      record: {},
    };
    const { text } = await readTimed(await fetch(url));
    assert.equal(text, `${content}data: [DONE]\n\n`);
  });

  it("ends a stream that breaks after its first byte with an OpenAI-shaped error event", async () => {
    const record: RequestRecord = {};
    current = {
      outcome: timedAnswer("text/event-stream", [event({ choices: [] })], 5, true),
      options: { stream: "passthrough", keepAzureStreamArtefacts: true },
      record,
    };
    const { text } = await readTimed(await fetch(url));
    const last = text.trim().split("\n\n").at(-1) ?? "";
    const error = JSON.parse(last.replace(/^data: /, "")) as { error: { message: string } };
    assert.ok(error.error.message.length > 0);
    assert.ok(record.error);
  });

  it("passes a non-stream answer through byte for byte", async () => {
    current = {
      outcome: timedAnswer("application/json", ['{"a":', "1}"], 5),
      options: chatOptions,
      record: {},
    };
    const response = await fetch(url);
    assert.equal(await response.text(), '{"a":1}');
  });
});
