import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { RequestRecord } from "../../src/observe/request-record.ts";
import { type RelayOptions, relayAnswer } from "../../src/proxy/relay.ts";
import type { Outcome } from "../../src/proxy/upstream-call.ts";

type Answer = Extract<Outcome, { kind: "answer" }>;

/** An answer split into the given pieces, with Azure's own rate-limit header. */
function answer(contentType: string, pieces: string[], status = 200): Answer {
  async function* rest() {
    for (const piece of pieces.slice(1)) yield Buffer.from(piece);
  }
  return {
    kind: "answer",
    status,
    headers: { "content-type": contentType, "x-ratelimit-remaining-requests": "999" },
    first: Buffer.from(pieces[0] ?? ""),
    rest: rest(),
    firstByteMs: 1,
  };
}

let server: Server;
let url: string;
let current: { outcome: Answer; options: RelayOptions; record: RequestRecord };
let done: Promise<void>;
before(async () => {
  server = createServer((_req, res) => {
    done = relayAnswer(current.outcome, res, current.options, current.record, {
      stopped: () => undefined,
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const event = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
const usage = { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 };

describe("relayAnswer and usage", () => {
  it("records a JSON answer's usage without changing a byte", async () => {
    const body = JSON.stringify({ choices: [{ message: { content: "hi" } }], usage });
    const record: RequestRecord = {};
    current = {
      outcome: answer("application/json", [body.slice(0, 10), body.slice(10)]),
      options: { stream: "chat", keepAzureStreamArtefacts: false },
      record,
    };
    assert.equal(await (await fetch(url)).text(), body);
    await done;
    assert.deepEqual(record.usage, { prompt: 9, completion: 3, reasoning: 0, cached: 0 });
  });

  it("hides the usage the proxy asked for, after dropping Azure's artefacts, and still records it", async () => {
    const pieces = [
      event({ choices: [], prompt_filter_results: [{}] }),
      event({ choices: [{ delta: { content: "a" } }], usage: null }),
      event({ choices: [], usage }),
      "data: [DONE]\n\n",
    ];
    const record: RequestRecord = {};
    current = {
      outcome: answer("text/event-stream", [
        pieces.join("").slice(0, 30),
        pieces.join("").slice(30),
      ]),
      options: { stream: "chat", keepAzureStreamArtefacts: false, hideStreamUsage: true },
      record,
    };
    const text = await (await fetch(url)).text();
    assert.equal(text, `${event({ choices: [{ delta: { content: "a" } }] })}data: [DONE]\n\n`);
    await done;
    assert.equal(record.usage?.prompt, 9);
  });

  it("answers with the client's x-ratelimit-* headers instead of Azure's", async () => {
    current = {
      outcome: answer("application/json", ["{}"]),
      options: {
        stream: undefined,
        keepAzureStreamArtefacts: false,
        headers: { "x-ratelimit-remaining-requests": "4" },
      },
      record: {},
    };
    const response = await fetch(url);
    await response.text();
    assert.equal(response.headers.get("x-ratelimit-remaining-requests"), "4");
  });

  it("reads no usage from an error answer", async () => {
    const record: RequestRecord = {};
    current = {
      outcome: answer("application/json", [JSON.stringify({ usage })], 400),
      options: { stream: undefined, keepAzureStreamArtefacts: false },
      record,
    };
    await (await fetch(url)).text();
    await done;
    assert.equal(record.usage, undefined);
  });
});
