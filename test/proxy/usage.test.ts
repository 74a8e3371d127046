import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chargedTokens } from "../../src/clients/charged-tokens.ts";
import { UsageTap, usageTokens } from "../../src/proxy/usage.ts";

function tapOf(framing: "json" | "sse", text: string, pieces = 7): ReturnType<UsageTap["result"]> {
  const tap = new UsageTap(framing);
  const bytes = Buffer.from(text);
  const step = Math.max(1, Math.ceil(bytes.length / pieces));
  for (let i = 0; i < bytes.length; i += step) tap.push(bytes.subarray(i, i + step));
  return tap.result();
}

const sse = (...events: unknown[]) =>
  `${events.map((e) => `data: ${typeof e === "string" ? e : JSON.stringify(e)}\n\n`).join("")}`;

describe("UsageTap", () => {
  it("reads a chat answer's usage with its reasoning and cached details", () => {
    const body = JSON.stringify({
      id: "chatcmpl-1",
      choices: [{ message: { content: 'he said "usage": {' } }],
      usage: {
        prompt_tokens: 20,
        completion_tokens: 50,
        total_tokens: 70,
        completion_tokens_details: { reasoning_tokens: 30 },
        prompt_tokens_details: { cached_tokens: 8 },
      },
    });
    assert.deepEqual(tapOf("json", body), { prompt: 20, completion: 50, reasoning: 30, cached: 8 });
  });

  it("counts an embeddings answer as prompt tokens", () => {
    const body = JSON.stringify({
      data: [{ embedding: [0.1, 0.2] }],
      usage: { prompt_tokens: 9, total_tokens: 9 },
    });
    const usage = tapOf("json", body);
    assert.deepEqual(usage, { prompt: 9, completion: 0, reasoning: 0, cached: 0 });
    assert.equal(usage && chargedTokens(usage), 9);
  });

  it("reads the usage of a Responses answer", () => {
    const body = JSON.stringify({
      object: "response",
      usage: {
        input_tokens: 11,
        output_tokens: 4,
        output_tokens_details: { reasoning_tokens: 2 },
        input_tokens_details: { cached_tokens: 1 },
      },
      metadata: {},
    });
    assert.deepEqual(tapOf("json", body), { prompt: 11, completion: 4, reasoning: 2, cached: 1 });
  });

  it("reads usage after megabytes of embeddings without keeping them", () => {
    const vector = Array.from({ length: 3072 }, (_, i) => (i % 97) / 97);
    const data = Array.from({ length: 60 }, (_, index) => ({ index, embedding: vector }));
    const body = JSON.stringify({ data, usage: { prompt_tokens: 600, total_tokens: 600 } });
    assert.ok(body.length > 2 * 1024 * 1024);
    assert.equal(tapOf("json", body, 400)?.prompt, 600);
  });

  it("reads usage from the last bytes of a long Responses answer, fields after it included", () => {
    const body = JSON.stringify({
      object: "response",
      output: [{ content: [{ text: 'say "usage": {'.repeat(10_000) }] }],
      usage: { input_tokens: 7, output_tokens: 70000 },
      user: null,
      metadata: { note: "x" },
    });
    assert.ok(body.length > 128 * 1024);
    assert.deepEqual(tapOf("json", body, 50), {
      prompt: 7,
      completion: 70000,
      reasoning: 0,
      cached: 0,
    });
  });

  it("returns nothing for an answer without usage, or one that is not JSON", () => {
    assert.equal(tapOf("json", JSON.stringify({ data: [] })), undefined);
    assert.equal(tapOf("json", "<html>"), undefined);
  });

  it("reads the usage chunk of a chat stream, split anywhere", () => {
    const text = sse(
      { choices: [{ delta: { content: "hi" } }], usage: null },
      { choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } },
      "[DONE]",
    );
    for (const pieces of [1, 3, 17, text.length]) {
      assert.deepEqual(tapOf("sse", text, pieces), {
        prompt: 5,
        completion: 2,
        reasoning: 0,
        cached: 0,
      });
    }
  });

  it("reads response.completed of a Responses stream", () => {
    const text = `event: response.created\ndata: ${JSON.stringify({ type: "response.created", response: { usage: null } })}\n\nevent: response.completed\ndata: ${JSON.stringify({ type: "response.completed", response: { usage: { input_tokens: 3, output_tokens: 6 } } })}\n\n`;
    assert.deepEqual(tapOf("sse", text), { prompt: 3, completion: 6, reasoning: 0, cached: 0 });
  });

  it("reads a final event that lacks its blank line", () => {
    const text = `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } })}`;
    assert.equal(tapOf("sse", text)?.prompt, 1);
  });

  it("returns nothing for a stream without usage", () => {
    assert.equal(tapOf("sse", sse({ choices: [{ delta: {} }] }, "[DONE]")), undefined);
  });
});

describe("usageTokens", () => {
  it("ignores objects that are not usage", () => {
    assert.equal(usageTokens(null), undefined);
    assert.equal(usageTokens({ foo: 1 }), undefined);
    assert.equal(usageTokens({ prompt_tokens: -1 }), undefined);
  });
});
