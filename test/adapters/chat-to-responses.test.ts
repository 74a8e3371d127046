import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chatToResponses } from "../../src/adapters/chat-to-responses.ts";
import { ProxyError } from "../../src/openai/errors.ts";

describe("chatToResponses", () => {
  it("sends leading system and developer messages as instructions and the rest as input", () => {
    const { body } = chatToResponses(
      {
        model: "gpt-5-codex",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "developer", content: [{ type: "text", text: "Answer in French." }] },
          { role: "user", content: "Hi" },
          { role: "assistant", content: "Bonjour" },
          { role: "developer", content: "Now in English." },
          { role: "user", content: "Again" },
        ],
      },
      "codex-prod",
    );
    assert.deepEqual(body, {
      model: "codex-prod",
      instructions: "Be brief.\n\nAnswer in French.",
      input: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Bonjour" },
        { role: "developer", content: "Now in English." },
        { role: "user", content: "Again" },
      ],
      store: false,
    });
  });

  it("turns text, image and file parts into input parts", () => {
    const { body } = chatToResponses(
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is this?" },
              { type: "image_url", image_url: { url: "https://x.test/cat.png", detail: "low" } },
              { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
              { type: "file", file: { file_id: "file-1" } },
            ],
          },
        ],
      },
      "d",
    );
    assert.deepEqual(body.input, [
      {
        role: "user",
        content: [
          { type: "input_text", text: "What is this?" },
          { type: "input_image", image_url: "https://x.test/cat.png", detail: "low" },
          { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "auto" },
          { type: "input_file", file_id: "file-1" },
        ],
      },
    ]);
  });

  it("carries a tool round trip: tool calls become function_call items, tool results function_call_output", () => {
    const { body } = chatToResponses(
      {
        messages: [
          { role: "user", content: "Weather in Paris?" },
          {
            role: "assistant",
            content: null,
            tool_calls: [
              {
                id: "call_1",
                type: "function",
                function: { name: "weather", arguments: '{"city":"Paris"}' },
              },
            ],
          },
          { role: "tool", tool_call_id: "call_1", content: "18C" },
        ],
        tools: [
          {
            type: "function",
            function: {
              name: "weather",
              description: "Current weather",
              parameters: { type: "object", properties: { city: { type: "string" } } },
            },
          },
        ],
        tool_choice: { type: "function", function: { name: "weather" } },
        parallel_tool_calls: false,
      },
      "d",
    );
    assert.deepEqual(body.input, [
      { role: "user", content: "Weather in Paris?" },
      { type: "function_call", call_id: "call_1", name: "weather", arguments: '{"city":"Paris"}' },
      { type: "function_call_output", call_id: "call_1", output: "18C" },
    ]);
    assert.deepEqual(body.tools, [
      {
        type: "function",
        name: "weather",
        description: "Current weather",
        parameters: { type: "object", properties: { city: { type: "string" } } },
        strict: false,
      },
    ]);
    assert.deepEqual(body.tool_choice, { type: "function", name: "weather" });
    assert.equal(body.parallel_tool_calls, false);
  });

  it("maps response_format, token limits, reasoning effort, user, metadata and store", () => {
    const schema = { type: "object", properties: { a: { type: "number" } }, required: ["a"] };
    const { body } = chatToResponses(
      {
        messages: [{ role: "user", content: "x" }],
        response_format: { type: "json_schema", json_schema: { name: "A", schema, strict: true } },
        max_tokens: 100,
        reasoning_effort: "high",
        user: "u1",
        metadata: { app: "test" },
        store: true,
        stream: true,
        stream_options: { include_usage: true },
        temperature: 0.5,
      },
      "d",
    );
    assert.deepEqual(body.text, {
      format: { type: "json_schema", name: "A", schema, strict: true },
    });
    assert.equal(body.max_output_tokens, 100);
    assert.deepEqual(body.reasoning, { effort: "high" });
    assert.equal(body.user, "u1");
    assert.deepEqual(body.metadata, { app: "test" });
    assert.equal(body.store, true);
    assert.equal(body.stream, true);
    assert.equal(body.temperature, 0.5);
    assert.equal("stream_options" in body, false);
  });

  it("prefers max_completion_tokens and maps json_object", () => {
    const { body } = chatToResponses(
      {
        messages: [{ role: "user", content: "x" }],
        max_tokens: 10,
        max_completion_tokens: 20,
        response_format: { type: "json_object" },
      },
      "d",
    );
    assert.equal(body.max_output_tokens, 20);
    assert.deepEqual(body.text, { format: { type: "json_object" } });
  });

  it("drops sampling controls the Responses API lacks and lists them", () => {
    const { body, adapted } = chatToResponses(
      { messages: [{ role: "user", content: "x" }], stop: ["END"], seed: 1, presence_penalty: 0.1 },
      "d",
    );
    assert.deepEqual(adapted, ["-stop", "-presence_penalty", "-seed"]);
    assert.equal("stop" in body, false);
  });

  it("refuses n > 1 and logprobs with a 400 naming the parameter", () => {
    for (const [extra, param] of [
      [{ n: 2 }, "n"],
      [{ logprobs: true }, "logprobs"],
      [{ top_logprobs: 3 }, "top_logprobs"],
    ] as const) {
      assert.throws(
        () => chatToResponses({ messages: [{ role: "user", content: "x" }], ...extra }, "d"),
        (error: unknown) =>
          error instanceof ProxyError &&
          error.status === 400 &&
          error.param === param &&
          error.message.includes("Responses API"),
      );
    }
  });

  it("accepts n: 1 and logprobs: false", () => {
    assert.doesNotThrow(() =>
      chatToResponses({ messages: [{ role: "user", content: "x" }], n: 1, logprobs: false }, "d"),
    );
  });

  it("refuses a body without messages", () => {
    assert.throws(
      () => chatToResponses({ model: "x" }, "d"),
      (error: unknown) => error instanceof ProxyError && error.param === "messages",
    );
  });

  it("drops temperature and top_p away from 1 for reasoning models, and lists them", () => {
    const { body, adapted } = chatToResponses(
      { messages: [{ role: "user", content: "x" }], temperature: 0.2, top_p: 1 },
      "d",
      { reasoning: true },
    );
    assert.equal("temperature" in body, false);
    assert.equal(body.top_p, 1);
    assert.deepEqual(adapted, ["-temperature"]);
  });
});
