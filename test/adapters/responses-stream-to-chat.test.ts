import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ResponsesStreamToChat } from "../../src/adapters/responses-stream-to-chat.ts";
import { dataEvents, translateSplitEverywhere } from "./split-stream.ts";

const response = { id: "resp_1", created_at: 1700000000, model: "gpt-5-codex" };
const event = (type: string, fields: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;

const usage = {
  input_tokens: 5,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 7,
  output_tokens_details: { reasoning_tokens: 3 },
  total_tokens: 12,
};

const textStream = [
  event("response.created", { response: { ...response, status: "in_progress" } }),
  event("response.in_progress", { response: { ...response, status: "in_progress" } }),
  event("response.output_item.added", { output_index: 0, item: { type: "reasoning", id: "rs" } }),
  event("response.output_item.added", {
    output_index: 1,
    item: { type: "message", id: "m", content: [] },
  }),
  event("response.output_text.delta", { output_index: 1, content_index: 0, delta: "Grüß " }),
  event("response.output_text.delta", { output_index: 1, content_index: 0, delta: "dich ✓" }),
  event("response.output_text.done", { output_index: 1, text: "Grüß dich ✓" }),
  event("response.completed", { response: { ...response, status: "completed", usage } }),
].join("");

const head = {
  id: "resp_1",
  object: "chat.completion.chunk",
  created: 1700000000,
  model: "gpt-5-codex",
};
const delta = (d: Record<string, unknown>) => ({
  ...head,
  choices: [{ index: 0, delta: d, logprobs: null, finish_reason: null }],
});
const finish = (reason: string) => ({
  ...head,
  choices: [{ index: 0, delta: {}, finish_reason: reason }],
});

describe("ResponsesStreamToChat", () => {
  it("streams the role first, then text deltas, a finish chunk and [DONE], however the bytes are split", () => {
    const out = translateSplitEverywhere(
      () => new ResponsesStreamToChat({ includeUsage: false }),
      textStream,
    );
    assert.deepEqual(dataEvents(out), [
      delta({ role: "assistant", content: "", refusal: null }),
      delta({ content: "Grüß " }),
      delta({ content: "dich ✓" }),
      finish("stop"),
      "[DONE]",
    ]);
  });

  it("adds the usage chunk only when the client asked for include_usage", () => {
    const out = translateSplitEverywhere(
      () => new ResponsesStreamToChat({ includeUsage: true }),
      textStream,
    );
    const events = dataEvents(out);
    assert.deepEqual(events.at(-2), {
      ...head,
      choices: [],
      usage: {
        prompt_tokens: 5,
        completion_tokens: 7,
        total_tokens: 12,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 3 },
      },
    });
  });

  it("streams each function call as tool-call deltas: index, id and name first, then arguments", () => {
    const stream = [
      event("response.created", { response }),
      event("response.output_item.added", {
        output_index: 0,
        item: {
          type: "function_call",
          id: "fc_1",
          call_id: "call_a",
          name: "weather",
          arguments: "",
        },
      }),
      event("response.function_call_arguments.delta", { output_index: 0, delta: '{"city":' }),
      event("response.function_call_arguments.delta", { output_index: 0, delta: '"Paris"}' }),
      event("response.output_item.added", {
        output_index: 1,
        item: { type: "function_call", id: "fc_2", call_id: "call_b", name: "time", arguments: "" },
      }),
      event("response.function_call_arguments.delta", { output_index: 1, delta: "{}" }),
      event("response.completed", { response: { ...response, status: "completed" } }),
    ].join("");
    const out = translateSplitEverywhere(
      () => new ResponsesStreamToChat({ includeUsage: false }),
      stream,
    );
    assert.deepEqual(dataEvents(out), [
      delta({ role: "assistant", content: "", refusal: null }),
      delta({
        tool_calls: [
          {
            index: 0,
            id: "call_a",
            type: "function",
            function: { name: "weather", arguments: "" },
          },
        ],
      }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      delta({
        tool_calls: [
          { index: 1, id: "call_b", type: "function", function: { name: "time", arguments: "" } },
        ],
      }),
      delta({ tool_calls: [{ index: 1, function: { arguments: "{}" } }] }),
      finish("tool_calls"),
      "[DONE]",
    ]);
  });

  it("ends with length when the answer hit max_output_tokens", () => {
    const stream = [
      event("response.created", { response }),
      event("response.output_text.delta", { delta: "Hel" }),
      event("response.incomplete", {
        response: {
          ...response,
          status: "incomplete",
          incomplete_details: { reason: "max_output_tokens" },
        },
      }),
    ].join("");
    const events = dataEvents(
      translateSplitEverywhere(() => new ResponsesStreamToChat({ includeUsage: false }), stream),
    );
    assert.deepEqual(events.at(-2), finish("length"));
  });

  it("turns an error event into an OpenAI-shaped error event and stops", () => {
    const stream = [
      event("response.created", { response }),
      event("error", { code: "rate_limit_exceeded", message: "Slow down", param: null }),
      event("response.output_text.delta", { delta: "ignored" }),
    ].join("");
    const events = dataEvents(
      translateSplitEverywhere(() => new ResponsesStreamToChat({ includeUsage: false }), stream),
    );
    assert.deepEqual(events.at(-1), {
      error: {
        message: "Slow down",
        type: "server_error",
        param: null,
        code: "rate_limit_exceeded",
      },
    });
    assert.equal(events.length, 2);
  });

  it("says the stream was cut short when Azure ends it before the answer completed", () => {
    const stream =
      event("response.created", { response }) +
      event("response.output_text.delta", { delta: "Hi" });
    const events = dataEvents(
      translateSplitEverywhere(() => new ResponsesStreamToChat({ includeUsage: false }), stream),
    );
    assert.equal((events.at(-1) as { error: { code: string } }).error.code, "upstream_interrupted");
  });
});
