import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { type Emulator, startEmulator } from "../src/index.ts";
import { chatBody, fetchAzure, postDated, postV1, readEvents, waitFor } from "./client.ts";

const chat = (emulator: Emulator, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  postDated(emulator, "gpt-4o", "chat/completions", chatBody("Hi"), headers, signal);

describe("emulator faults", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ chunkDelayMs: 1 });
  });
  afterEach(() => emulator.clearFaults());
  after(() => emulator.close());

  it("answers 429 with retry-after-ms, retry-after and Azure's rate-limit message", async () => {
    emulator.injectFault({ kind: "429", retryAfterMs: 1500 });
    const res = await chat(emulator);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after-ms"), "1500");
    assert.equal(res.headers.get("retry-after"), "2");
    const { error } = await res.json();
    assert.equal(error.code, "429");
    assert.match(
      error.message,
      /^Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier\. Please retry after 2 seconds\./,
    );
    assert.equal((await chat(emulator)).status, 200, "the fault is used up");
  });

  it("applies a fault the given number of times, only to its deployment", async () => {
    emulator.injectFault({ kind: "500", times: 2, deployment: "gpt-4o-mini" });
    assert.equal((await chat(emulator)).status, 200);
    const mini = () => postDated(emulator, "gpt-4o-mini", "chat/completions", chatBody("Hi"));
    const first = await mini();
    assert.equal(first.status, 500);
    assert.deepEqual(await first.json(), {
      error: {
        code: "InternalServerError",
        message: "The server had an error while processing your request.",
      },
    });
    assert.equal((await mini()).status, 500);
    assert.equal((await mini()).status, 200);
  });

  it("matches v1 requests by the deployment in their body", async () => {
    emulator.injectFault({ kind: "429", deployment: "gpt-4o" });
    const res = await postV1(emulator, "chat/completions", chatBody("Hi", { model: "gpt-4o" }));
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after-ms"), "1000");
    assert.equal(res.headers.get("retry-after"), "1");
    assert.match((await res.json()).error.message, /API version v1 .* retry after 1 second\./);
  });

  it("refuses with a content_filter error on demand", async () => {
    emulator.injectFault({ kind: "content-filter" });
    const res = await chat(emulator);
    assert.equal(res.status, 400);
    const { error } = await res.json();
    assert.equal(error.code, "content_filter");
    assert.equal(error.innererror.code, "ResponsibleAIPolicyViolation");
  });

  it("delays the first byte, then answers normally", async () => {
    emulator.injectFault({ kind: "slow-first-byte", delayMs: 200 });
    const start = performance.now();
    const res = await chat(emulator);
    assert.ok(performance.now() - start >= 190);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).object, "chat.completion");
  });

  it("resets the connection without answering", async () => {
    emulator.injectFault({ kind: "reset" });
    await assert.rejects(chat(emulator), TypeError);
    assert.equal(emulator.requests.at(-1)?.aborted, false);
    assert.equal((await chat(emulator)).status, 200);
  });

  it("resets a stream after a few chunks", async () => {
    emulator.injectFault({ kind: "reset-mid-stream" });
    const res = await postDated(
      emulator,
      "gpt-4o",
      "chat/completions",
      chatBody("Hi", { stream: true }),
    );
    assert.equal(res.status, 200);
    const reader = res.body?.getReader();
    let received = "";
    await assert.rejects(async () => {
      for (;;) {
        const result = await reader?.read();
        if (result === undefined || result.done) break;
        received += new TextDecoder().decode(result.value);
      }
    });
    assert.match(received, /^data: /);
    assert.ok(!received.includes("[DONE]"));
  });

  it("cuts a non-streaming answer in the middle of its body", async () => {
    emulator.injectFault({ kind: "reset-mid-stream" });
    const res = await chat(emulator);
    assert.equal(res.status, 200);
    await assert.rejects(res.json());
  });

  it("hangs until the client gives up, and records that it went away", async () => {
    emulator.injectFault({ kind: "hang" });
    const controller = new AbortController();
    const pending = chat(emulator, {}, controller.signal);
    const count = emulator.requests.length;
    await waitFor(() => emulator.requests.length > count);
    const record = emulator.requests.at(-1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(record?.aborted, false);
    controller.abort();
    await assert.rejects(pending, { name: "AbortError" });
    await waitFor(() => record?.aborted === true);
  });

  it("takes faults from request headers, for clients driving it through a proxy", async () => {
    const limited = await chat(emulator, {
      "x-emulator-fault": "429",
      "x-emulator-retry-after-ms": "3000",
    });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "3");

    const start = performance.now();
    const slow = await chat(emulator, {
      "x-emulator-fault": "slow-first-byte",
      "x-emulator-delay-ms": "100",
    });
    assert.equal(slow.status, 200);
    assert.ok(performance.now() - start >= 95);

    const streamed = await postDated(
      emulator,
      "gpt-4o",
      "chat/completions",
      chatBody("Hi", { stream: true }),
      { "x-emulator-fault": "500" },
    );
    assert.equal(streamed.status, 500);

    const unknown = await chat(emulator, { "x-emulator-fault": "explode" });
    assert.equal(unknown.status, 400);
    assert.match((await unknown.json()).error.message, /x-emulator-fault must be one of 429, 500/);
  });

  it("does not spend injected faults on listings", async () => {
    emulator.injectFault({ kind: "500" });
    const list = await fetchAzure(`${emulator.url}/openai/v1/models`, {
      headers: { "api-key": "emulator-key" },
    });
    assert.equal(list.status, 200);
    assert.equal((await chat(emulator)).status, 500);
  });

  it("refuses malformed faults", () => {
    assert.throws(
      () => emulator.injectFault({ kind: "boom" as "500" }),
      /Unknown fault kind "boom"/,
    );
    assert.throws(
      () => emulator.injectFault({ kind: "500", times: 0 }),
      /times must be a positive/,
    );
  });

  it("streams normally once faults are cleared", async () => {
    emulator.injectFault({ kind: "500", times: 5 });
    emulator.clearFaults();
    const res = await postDated(
      emulator,
      "gpt-4o",
      "chat/completions",
      chatBody("Hi", { stream: true }),
    );
    assert.equal((await readEvents(res)).at(-1)?.data, "[DONE]");
  });
});

describe("emulator close", () => {
  it("closes promptly with a hung request open, failing that request", async () => {
    const emulator = await startEmulator();
    const pending = chat(emulator, { "x-emulator-fault": "hang" });
    await waitFor(() => emulator.requests.length === 1);
    const start = performance.now();
    await emulator.close();
    assert.ok(performance.now() - start < 1000);
    await assert.rejects(pending, TypeError);
    assert.equal(emulator.requests[0]?.aborted, false);
    await assert.rejects(fetchAzure(`${emulator.url}/openai/v1/models`), TypeError);
  });

  it("closes promptly in the middle of a slow stream", async () => {
    const emulator = await startEmulator({ chunkDelayMs: 200 });
    const res = await postDated(
      emulator,
      "gpt-4o",
      "chat/completions",
      chatBody("Hi", { stream: true }),
    );
    await res.body?.getReader().read();
    const start = performance.now();
    await emulator.close();
    assert.ok(performance.now() - start < 1000);
  });
});
