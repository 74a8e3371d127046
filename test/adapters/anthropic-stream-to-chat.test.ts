import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AnthropicStreamToChat } from "../../src/adapters/anthropic-stream-to-chat.ts";
import { JSON_ANSWER_TOOL } from "../../src/adapters/chat-to-anthropic.ts";
import { dataEvents, translateSplitEverywhere } from "./split-stream.ts";

const event = (type: string, fields: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;

const start = event("message_start", {
  message: {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5",
    content: [],
    stop_reason: null,
    usage: { input_tokens: 10, cache_read_input_tokens: 4, output_tokens: 1 },
  },
});
const stop = (reason: string, output = 6) =>
  event("message_delta", {
    delta: { stop_reason: reason, stop_sequence: null },
    usage: { output_tokens: output },
  }) + event("message_stop", {});

const textStream =
  start +
  event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }) +
  event("ping", {}) +
  event("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Grüß " } }) +
  event("content_block_delta", { index: 0, delta: { type: "text_delta", text: "dich ✓" } }) +
  event("content_block_stop", { index: 0 }) +
  stop("end_turn");

const head = {
  id: "msg_1",
  object: "chat.completion.chunk",
  created: 1700000000,
  model: "claude-sonnet-4-5",
};
const delta = (d: Record<string, unknown>) => ({
  ...head,
  choices: [{ index: 0, delta: d, logprobs: null, finish_reason: null }],
});
const finish = (reason: string) => ({
  ...head,
  choices: [{ index: 0, delta: {}, finish_reason: reason }],
});
const make = (includeUsage: boolean, jsonTool?: string) => () =>
  new AnthropicStreamToChat({ includeUsage, jsonTool, created: 1700000000 });

describe("AnthropicStreamToChat", () => {
  it("streams the role, text deltas, finish and [DONE], dropping pings, however the bytes are split", () => {
    assert.deepEqual(dataEvents(translateSplitEverywhere(make(false), textStream)), [
      delta({ role: "assistant", content: "", refusal: null }),
      delta({ content: "Grüß " }),
      delta({ content: "dich ✓" }),
      finish("stop"),
      "[DONE]",
    ]);
  });

  it("adds usage with cache reads counted as prompt tokens when include_usage was asked", () => {
    const events = dataEvents(translateSplitEverywhere(make(true), textStream));
    assert.deepEqual(events.at(-2), {
      ...head,
      choices: [],
      usage: {
        prompt_tokens: 14,
        completion_tokens: 6,
        total_tokens: 20,
        prompt_tokens_details: { cached_tokens: 4 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
  });

  it("streams tool_use blocks as tool-call deltas: index, id and name first, then the input JSON", () => {
    const stream =
      start +
      event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }) +
      event("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Checking." } }) +
      event("content_block_stop", { index: 0 }) +
      event("content_block_start", {
        index: 1,
        content_block: { type: "tool_use", id: "toolu_1", name: "weather", input: {} },
      }) +
      event("content_block_delta", {
        index: 1,
        delta: { type: "input_json_delta", partial_json: "" },
      }) +
      event("content_block_delta", {
        index: 1,
        delta: { type: "input_json_delta", partial_json: '{"city":' },
      }) +
      event("content_block_delta", {
        index: 1,
        delta: { type: "input_json_delta", partial_json: '"Paris"}' },
      }) +
      event("content_block_stop", { index: 1 }) +
      event("content_block_start", {
        index: 2,
        content_block: { type: "tool_use", id: "toolu_2", name: "time", input: {} },
      }) +
      event("content_block_delta", {
        index: 2,
        delta: { type: "input_json_delta", partial_json: "{}" },
      }) +
      event("content_block_stop", { index: 2 }) +
      stop("tool_use");
    assert.deepEqual(dataEvents(translateSplitEverywhere(make(false), stream)), [
      delta({ role: "assistant", content: "", refusal: null }),
      delta({ content: "Checking." }),
      delta({
        tool_calls: [
          {
            index: 0,
            id: "toolu_1",
            type: "function",
            function: { name: "weather", arguments: "" },
          },
        ],
      }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      delta({
        tool_calls: [
          { index: 1, id: "toolu_2", type: "function", function: { name: "time", arguments: "" } },
        ],
      }),
      delta({ tool_calls: [{ index: 1, function: { arguments: "{}" } }] }),
      finish("tool_calls"),
      "[DONE]",
    ]);
  });

  it("streams a json_schema answer made through the forced tool as content", () => {
    const stream =
      start +
      event("content_block_start", {
        index: 0,
        content_block: { type: "tool_use", id: "t", name: JSON_ANSWER_TOOL, input: {} },
      }) +
      event("content_block_delta", {
        index: 0,
        delta: { type: "input_json_delta", partial_json: '{"a":1}' },
      }) +
      event("content_block_stop", { index: 0 }) +
      stop("tool_use");
    assert.deepEqual(dataEvents(translateSplitEverywhere(make(false, JSON_ANSWER_TOOL), stream)), [
      delta({ role: "assistant", content: "", refusal: null }),
      delta({ content: '{"a":1}' }),
      finish("stop"),
      "[DONE]",
    ]);
  });

  it("ends with length at max_tokens", () => {
    const stream =
      start +
      event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }) +
      event("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Hel" } }) +
      stop("max_tokens");
    assert.deepEqual(
      dataEvents(translateSplitEverywhere(make(false), stream)).at(-2),
      finish("length"),
    );
  });

  it("turns an error event into an OpenAI-shaped error event", () => {
    const stream =
      start + event("error", { error: { type: "overloaded_error", message: "Overloaded" } });
    assert.deepEqual(dataEvents(translateSplitEverywhere(make(false), stream)).at(-1), {
      error: { message: "Overloaded", type: "server_error", param: null, code: "overloaded_error" },
    });
  });

  it("says the stream was cut short when it ends before message_stop", () => {
    const stream =
      start + event("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
    const last = dataEvents(translateSplitEverywhere(make(false), stream)).at(-1) as {
      error: { code: string };
    };
    assert.equal(last.error.code, "upstream_interrupted");
  });
});
