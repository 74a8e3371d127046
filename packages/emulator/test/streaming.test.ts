import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { type Emulator, startEmulator } from "../src/index.ts";
import { chatBody, type Json, jsonEvents, postDated, readEvents, waitFor } from "./client.ts";

const SAFE = { filtered: false, severity: "safe" };
const SAFE_RESULTS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };

describe("emulator streaming", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ chunkDelayMs: 1 });
  });
  afterEach(() => emulator.clearFaults());
  after(() => emulator.close());

  it("streams chat in Azure's exact sequence, artefacts included, [DONE] last", async () => {
    const res = await postDated(
      emulator,
      "gpt-4o",
      "chat/completions",
      chatBody("Hi", { stream: true }),
      {
        "x-emulator-words": "5",
      },
    );
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const events = await readEvents(res);
    assert.equal(events.at(-1)?.data, "[DONE]");
    const chunks = jsonEvents(events);

    const [first, role, ...rest] = chunks;
    assert.deepEqual(Object.keys(first ?? {}), [
      "choices",
      "created",
      "id",
      "model",
      "object",
      "prompt_filter_results",
    ]);
    assert.deepEqual(first?.choices, []);
    assert.equal(first?.created, 0);
    assert.equal(first?.id, "");
    assert.deepEqual(role?.choices[0]?.delta, { content: "", refusal: null, role: "assistant" });
    assert.equal(role?.object, "chat.completion.chunk");
    assert.equal(role?.model, "gpt-4o");
    assert.match(String(role?.id), /^chatcmpl-/);

    const contents = rest.filter((c) => c.choices[0]?.delta?.content);
    assert.deepEqual(
      contents.map((c) => c.choices[0].delta.content),
      ["word1", " word2", " word3", " word4", " word5"],
    );
    for (const c of contents) assert.deepEqual(c.choices[0]?.content_filter_results, SAFE_RESULTS);

    // The annotation-only chunk comes right after the third content chunk and has no delta.
    const annotation = rest[3];
    assert.deepEqual(annotation, {
      choices: [
        {
          content_filter_offsets: { check_offset: 0, start_offset: 0, end_offset: 20 },
          content_filter_results: SAFE_RESULTS,
          finish_reason: null,
          index: 0,
        },
      ],
      created: 0,
      id: "",
      model: "",
      object: "",
    });

    const finish = chunks.at(-1);
    assert.equal(finish?.choices[0]?.finish_reason, "stop");
    assert.deepEqual(finish?.choices[0]?.delta, {});
    assert.equal(chunks.length, 2 + 5 + 1 + 1);
    assert.equal(finish?.usage, undefined);
  });

  it("sends chunks spaced out by the chunk delay, not all at once", async () => {
    const res = await postDated(
      emulator,
      "gpt-4o",
      "chat/completions",
      chatBody("Hi", { stream: true }),
      {
        "x-emulator-words": "5",
        "x-emulator-chunk-delay-ms": "40",
      },
    );
    const events = await readEvents(res);
    assert.equal(events.length, 10);
    const span = (events.at(-1)?.at ?? 0) - (events[0]?.at ?? 0);
    assert.ok(span >= 9 * 40 * 0.8, `events spanned only ${span} ms`);
    const reads = new Set(events.map((e) => e.read));
    assert.ok(reads.size >= 5, `events arrived in only ${reads.size} reads`);
  });

  it("adds a usage chunk with empty choices before [DONE] when include_usage is set", async () => {
    const res = await postDated(
      emulator,
      "gpt-4o",
      "chat/completions",
      chatBody("one two three", { stream: true, stream_options: { include_usage: true } }),
      { "x-emulator-words": "4" },
    );
    const events = await readEvents(res);
    assert.equal(events.at(-1)?.data, "[DONE]");
    const usage = jsonEvents(events).at(-1);
    assert.deepEqual(usage.choices, []);
    assert.equal(usage.object, "chat.completion.chunk");
    assert.deepEqual(
      [usage.usage.prompt_tokens, usage.usage.completion_tokens, usage.usage.total_tokens],
      [3, 4, 7],
    );
  });

  it("stops at max_tokens with finish_reason length", async () => {
    const res = await postDated(
      emulator,
      "gpt-4o",
      "chat/completions",
      chatBody("Hi", { stream: true, max_completion_tokens: 2 }),
      { "x-emulator-words": "10" },
    );
    const chunks = jsonEvents(await readEvents(res));
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    assert.equal(text, "word1 word2");
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, "length");
  });

  it("streams a tool call and finishes with tool_calls", async () => {
    const tools = [{ type: "function", function: { name: "get_weather", parameters: {} } }];
    const res = await postDated(
      emulator,
      "gpt-4o",
      "chat/completions",
      chatBody("weather in Paris?", { stream: true, tools }),
    );
    const chunks = jsonEvents(await readEvents(res));
    const calls = chunks.slice(1, -1).flatMap((c) => c.choices[0].delta.tool_calls ?? []);
    assert.equal(calls[0].function.name, "get_weather");
    assert.match(calls[0].id, /^call_/);
    assert.equal(calls.map((c: Json) => c.function.arguments).join(""), "{}");
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, "tool_calls");
  });

  it("streams legacy completions with the prompt-filter chunk first", async () => {
    const res = await postDated(
      emulator,
      "gpt-35-turbo-instruct",
      "completions",
      { prompt: "Hi", stream: true, stream_options: { include_usage: true } },
      { "x-emulator-words": "4" },
    );
    const events = await readEvents(res);
    assert.equal(events.at(-1)?.data, "[DONE]");
    const chunks = jsonEvents(events);
    assert.deepEqual(chunks[0]?.choices, []);
    assert.ok(Array.isArray(chunks[0]?.prompt_filter_results));
    const text = chunks.map((c) => c.choices[0]?.text ?? "").join("");
    assert.equal(text, "word1 word2 word3 word4");
    assert.equal(chunks[1]?.object, "text_completion");
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, "stop");
    assert.ok(chunks.at(-1)?.usage);
  });

  it("stops streaming and records aborted when the client goes away", async () => {
    const controller = new AbortController();
    const res = await postDated(
      emulator,
      "gpt-4o",
      "chat/completions",
      chatBody("Hi", { stream: true }),
      { "x-emulator-words": "200", "x-emulator-chunk-delay-ms": "20" },
      controller.signal,
    );
    const record = emulator.requests.at(-1);
    const reader = res.body?.getReader();
    await reader?.read();
    controller.abort();
    await waitFor(() => record?.aborted === true);
    // The emulator keeps serving after a client left mid-stream.
    const next = await postDated(emulator, "gpt-4o", "chat/completions", chatBody("Hi"));
    assert.equal(next.status, 200);
  });

  it("streams speech audio in several chunks", async () => {
    const res = await postDated(
      emulator,
      "tts",
      "audio/speech",
      { input: "Hello world", voice: "alloy", response_format: "wav" },
      { "x-emulator-chunk-delay-ms": "30" },
    );
    const reader = res.body?.getReader();
    let reads = 0;
    let size = 0;
    for (;;) {
      const result = await reader?.read();
      if (result === undefined || result.done) break;
      reads++;
      size += result.value.length;
    }
    assert.ok(reads >= 3, `audio arrived in ${reads} reads`);
    assert.equal(size, "Hello world".length * 64 + 16);
  });
});
