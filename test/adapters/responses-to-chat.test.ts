import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { responsesToChat } from "../../src/adapters/responses-to-chat.ts";
import { ProxyError } from "../../src/openai/errors.ts";

const usage = {
  input_tokens: 20,
  input_tokens_details: { cached_tokens: 8 },
  output_tokens: 30,
  output_tokens_details: { reasoning_tokens: 12 },
  total_tokens: 50,
};

const base = { id: "resp_1", object: "response", created_at: 1700000000, model: "gpt-5-codex" };

describe("responsesToChat", () => {
  it("answers with the message text, stop and usage with reasoning and cached tokens", () => {
    const chat = responsesToChat({
      ...base,
      status: "completed",
      output: [
        { type: "reasoning", id: "rs_1", summary: [] },
        {
          type: "message",
          id: "msg_1",
          role: "assistant",
          content: [{ type: "output_text", text: "Hello", annotations: [] }],
        },
      ],
      usage,
    });
    assert.deepEqual(chat, {
      id: "resp_1",
      object: "chat.completion",
      created: 1700000000,
      model: "gpt-5-codex",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Hello", refusal: null },
          finish_reason: "stop",
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: 20,
        completion_tokens: 30,
        total_tokens: 50,
        prompt_tokens_details: { cached_tokens: 8 },
        completion_tokens_details: { reasoning_tokens: 12 },
      },
    });
  });

  it("turns function calls into tool_calls with finish_reason tool_calls", () => {
    const chat = responsesToChat({
      ...base,
      status: "completed",
      output: [
        { type: "function_call", id: "fc_1", call_id: "call_a", name: "f", arguments: '{"x":1}' },
        { type: "function_call", id: "fc_2", call_id: "call_b", name: "g", arguments: "{}" },
      ],
    });
    const choice = chat.choices[0];
    assert.equal(choice?.finish_reason, "tool_calls");
    assert.equal(choice?.message.content, null);
    assert.deepEqual(choice?.message.tool_calls, [
      { id: "call_a", type: "function", function: { name: "f", arguments: '{"x":1}' } },
      { id: "call_b", type: "function", function: { name: "g", arguments: "{}" } },
    ]);
  });

  it("reports a refusal as message.refusal", () => {
    const chat = responsesToChat({
      ...base,
      status: "completed",
      output: [{ type: "message", content: [{ type: "refusal", refusal: "I can't help." }] }],
    });
    assert.equal(chat.choices[0]?.message.refusal, "I can't help.");
    assert.equal(chat.choices[0]?.message.content, null);
  });

  it("says length when the answer stopped at max_output_tokens, content_filter when filtered", () => {
    const cut = (reason: string) =>
      responsesToChat({
        ...base,
        status: "incomplete",
        incomplete_details: { reason },
        output: [{ type: "message", content: [{ type: "output_text", text: "Hel" }] }],
      }).choices[0]?.finish_reason;
    assert.equal(cut("max_output_tokens"), "length");
    assert.equal(cut("content_filter"), "content_filter");
  });

  it("turns a failed response into a 500 naming the reason", () => {
    assert.throws(
      () =>
        responsesToChat({
          ...base,
          status: "failed",
          error: { code: "server_error", message: "boom" },
          output: [],
        }),
      (error: unknown) =>
        error instanceof ProxyError && error.status === 500 && error.message.includes("boom"),
    );
  });

  it("refuses an answer that is not a response object", () => {
    assert.throws(
      () => responsesToChat({ hello: 1 }),
      (error: unknown) => error instanceof ProxyError && error.status === 502,
    );
  });
});
