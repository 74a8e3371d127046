import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { anthropicErrorToOpenAI, anthropicToChat } from "../../src/adapters/anthropic-to-chat.ts";
import { JSON_ANSWER_TOOL } from "../../src/adapters/chat-to-anthropic.ts";

const message = {
  id: "msg_1",
  type: "message",
  role: "assistant",
  model: "claude-sonnet-4-5",
  stop_sequence: null,
  usage: {
    input_tokens: 10,
    output_tokens: 5,
    cache_creation_input_tokens: 3,
    cache_read_input_tokens: 20,
  },
};

describe("anthropicToChat", () => {
  it("answers with the text, stop, and usage counting cache tokens as prompt tokens", () => {
    const chat = anthropicToChat(
      { ...message, content: [{ type: "text", text: "Hello" }], stop_reason: "end_turn" },
      { jsonTool: undefined, created: 1700000000 },
    );
    assert.deepEqual(chat, {
      id: "msg_1",
      object: "chat.completion",
      created: 1700000000,
      model: "claude-sonnet-4-5",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Hello", refusal: null },
          finish_reason: "stop",
          logprobs: null,
        },
      ],
      usage: {
        prompt_tokens: 33,
        completion_tokens: 5,
        total_tokens: 38,
        prompt_tokens_details: { cached_tokens: 20 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
  });

  it("turns tool_use blocks into tool_calls with the input as a JSON string", () => {
    const chat = anthropicToChat(
      {
        ...message,
        content: [
          { type: "text", text: "Let me check." },
          { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
        ],
        stop_reason: "tool_use",
      },
      { jsonTool: undefined },
    );
    assert.equal(chat.choices[0]?.finish_reason, "tool_calls");
    assert.equal(chat.choices[0]?.message.content, "Let me check.");
    assert.deepEqual(chat.choices[0]?.message.tool_calls, [
      {
        id: "toolu_1",
        type: "function",
        function: { name: "weather", arguments: '{"city":"Paris"}' },
      },
    ]);
  });

  it("gives a json_schema answer made through the forced tool as the content", () => {
    const chat = anthropicToChat(
      {
        ...message,
        content: [{ type: "tool_use", id: "t", name: JSON_ANSWER_TOOL, input: { a: 1 } }],
        stop_reason: "tool_use",
      },
      { jsonTool: JSON_ANSWER_TOOL },
    );
    assert.equal(chat.choices[0]?.message.content, '{"a":1}');
    assert.equal(chat.choices[0]?.message.tool_calls, undefined);
    assert.equal(chat.choices[0]?.finish_reason, "stop");
  });

  it("maps stop reasons: max_tokens to length, refusal to content_filter", () => {
    const finish = (stop_reason: string) =>
      anthropicToChat({ ...message, content: [], stop_reason }, { jsonTool: undefined }).choices[0]
        ?.finish_reason;
    assert.equal(finish("max_tokens"), "length");
    assert.equal(finish("stop_sequence"), "stop");
    assert.equal(finish("refusal"), "content_filter");
  });
});

describe("anthropicErrorToOpenAI", () => {
  it("turns Anthropic's error body into OpenAI's shape, keeping Anthropic's type as the code", () => {
    assert.deepEqual(
      anthropicErrorToOpenAI(400, {
        type: "error",
        error: { type: "invalid_request_error", message: "max_tokens: Field required" },
      }),
      {
        error: {
          message: "max_tokens: Field required",
          type: "invalid_request_error",
          param: null,
          code: "invalid_request_error",
        },
      },
    );
    assert.equal(
      anthropicErrorToOpenAI(529, {
        type: "error",
        error: { type: "overloaded_error", message: "Overloaded" },
      }).error.type,
      "server_error",
    );
    assert.equal(
      anthropicErrorToOpenAI(429, {
        type: "error",
        error: { type: "rate_limit_error", message: "slow" },
      }).error.type,
      "rate_limit_error",
    );
  });

  it("keeps Azure's own error in front of Anthropic readable", () => {
    assert.deepEqual(
      anthropicErrorToOpenAI(401, { error: { code: "401", message: "Access denied" } }),
      {
        error: { message: "Access denied", type: "authentication_error", param: null, code: "401" },
      },
    );
  });
});
