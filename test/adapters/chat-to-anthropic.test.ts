import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chatToAnthropic, JSON_ANSWER_TOOL } from "../../src/adapters/chat-to-anthropic.ts";
import { ProxyError } from "../../src/openai/errors.ts";

const user = (content: unknown) => ({ role: "user", content });

describe("chatToAnthropic", () => {
  it("moves system messages to system, sets the deployment and a default max_tokens", () => {
    const { body, adapted, jsonTool } = chatToAnthropic(
      {
        model: "claude-sonnet-4-5",
        messages: [
          { role: "system", content: "Be brief." },
          user("Hi"),
          { role: "developer", content: "Also kind." },
        ],
      },
      "claude-prod",
      4096,
    );
    assert.deepEqual(body, {
      model: "claude-prod",
      max_tokens: 4096,
      system: "Be brief.\n\nAlso kind.",
      messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
    });
    assert.deepEqual(adapted, []);
    assert.equal(jsonTool, undefined);
  });

  it("keeps the client's max_tokens (max_completion_tokens first), stop, temperature and top_p", () => {
    const { body } = chatToAnthropic(
      {
        messages: [user("x")],
        max_tokens: 50,
        max_completion_tokens: 60,
        stop: "END",
        temperature: 0.3,
        top_p: 0.9,
      },
      "d",
      4096,
    );
    assert.equal(body.max_tokens, 60);
    assert.deepEqual(body.stop_sequences, ["END"]);
    assert.equal(body.temperature, 0.3);
    assert.equal(body.top_p, 0.9);
  });

  it("merges consecutive turns of one role so user and assistant alternate", () => {
    const { body } = chatToAnthropic(
      {
        messages: [
          user("a"),
          user("b"),
          { role: "assistant", content: "c" },
          { role: "assistant", content: "d" },
        ],
      },
      "d",
      10,
    );
    assert.deepEqual(body.messages, [
      {
        role: "user",
        content: [
          { type: "text", text: "a" },
          { type: "text", text: "b" },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "text", text: "c" },
          { type: "text", text: "d" },
        ],
      },
    ]);
  });

  it("sends data-URL images as base64 sources and https images as URL sources", () => {
    const { body } = chatToAnthropic(
      {
        messages: [
          user([
            { type: "text", text: "Compare" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            { type: "image_url", image_url: { url: "https://x.test/cat.jpg" } },
          ]),
        ],
      },
      "d",
      10,
    );
    assert.deepEqual(body.messages, [
      {
        role: "user",
        content: [
          { type: "text", text: "Compare" },
          {
            type: "image",
            source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" },
          },
          { type: "image", source: { type: "url", url: "https://x.test/cat.jpg" } },
        ],
      },
    ]);
  });

  it("refuses an image that is neither a data URL nor http(s)", () => {
    assert.throws(
      () =>
        chatToAnthropic(
          { messages: [user([{ type: "image_url", image_url: { url: "ftp://x/y" } }])] },
          "d",
          10,
        ),
      (error: unknown) => error instanceof ProxyError && error.status === 400,
    );
  });

  it("carries a tool round trip: tools, tool_use blocks, and tool results in one user turn", () => {
    const { body } = chatToAnthropic(
      {
        messages: [
          user("Weather in Paris and Rome?"),
          {
            role: "assistant",
            content: "Checking.",
            tool_calls: [
              {
                id: "toolu_1",
                type: "function",
                function: { name: "weather", arguments: '{"city":"Paris"}' },
              },
              {
                id: "toolu_2",
                type: "function",
                function: { name: "weather", arguments: '{"city":"Rome"}' },
              },
            ],
          },
          { role: "tool", tool_call_id: "toolu_1", content: "18C" },
          { role: "tool", tool_call_id: "toolu_2", content: [{ type: "text", text: "25C" }] },
        ],
        tools: [
          {
            type: "function",
            function: {
              name: "weather",
              description: "Weather",
              parameters: { type: "object", properties: { city: { type: "string" } } },
            },
          },
        ],
        tool_choice: "required",
        parallel_tool_calls: false,
      },
      "d",
      10,
    );
    assert.deepEqual(body.messages, [
      { role: "user", content: [{ type: "text", text: "Weather in Paris and Rome?" }] },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
          { type: "tool_use", id: "toolu_2", name: "weather", input: { city: "Rome" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_1", content: "18C" },
          { type: "tool_result", tool_use_id: "toolu_2", content: "25C" },
        ],
      },
    ]);
    assert.deepEqual(body.tools, [
      {
        name: "weather",
        description: "Weather",
        input_schema: { type: "object", properties: { city: { type: "string" } } },
      },
    ]);
    assert.deepEqual(body.tool_choice, { type: "any", disable_parallel_tool_use: true });
  });

  it("maps tool_choice auto, none and a named function", () => {
    const choice = (tool_choice: unknown) =>
      chatToAnthropic(
        {
          messages: [user("x")],
          tools: [{ type: "function", function: { name: "f" } }],
          tool_choice,
        },
        "d",
        10,
      ).body.tool_choice;
    assert.deepEqual(choice("auto"), { type: "auto" });
    assert.deepEqual(choice("none"), { type: "none" });
    assert.deepEqual(choice({ type: "function", function: { name: "f" } }), {
      type: "tool",
      name: "f",
    });
  });

  it("refuses tool call arguments that are not a JSON object", () => {
    assert.throws(
      () =>
        chatToAnthropic(
          {
            messages: [
              {
                role: "assistant",
                tool_calls: [
                  { id: "t", type: "function", function: { name: "f", arguments: "{oops" } },
                ],
              },
            ],
          },
          "d",
          10,
        ),
      (error: unknown) =>
        error instanceof ProxyError &&
        error.param === "messages[0].tool_calls[0].function.arguments",
    );
  });

  it("asks a json_schema answer through a forced tool whose input is the schema", () => {
    const schema = { type: "object", properties: { a: { type: "number" } } };
    const { body, jsonTool } = chatToAnthropic(
      {
        messages: [user("x")],
        response_format: { type: "json_schema", json_schema: { name: "A", schema } },
      },
      "d",
      10,
    );
    assert.equal(jsonTool, JSON_ANSWER_TOOL);
    assert.deepEqual(body.tools, [
      {
        name: JSON_ANSWER_TOOL,
        description: "Give the answer as this tool's input.",
        input_schema: schema,
      },
    ]);
    assert.deepEqual(body.tool_choice, { type: "tool", name: JSON_ANSWER_TOOL });
  });

  it("asks for JSON in the system prompt for json_object", () => {
    const { body } = chatToAnthropic(
      { messages: [user("x")], response_format: { type: "json_object" } },
      "d",
      10,
    );
    assert.equal(body.system, "Answer with one JSON object and nothing else.");
  });

  it("caps temperature at Anthropic's 1, drops what it lacks, and lists both", () => {
    const { body, adapted } = chatToAnthropic(
      { messages: [user("x")], temperature: 1.5, seed: 3, presence_penalty: 0.5, user: "u1" },
      "d",
      10,
    );
    assert.equal(body.temperature, 1);
    assert.deepEqual(body.metadata, { user_id: "u1" });
    assert.deepEqual(adapted, ["temperature=1", "-presence_penalty", "-seed"]);
  });

  it("refuses n > 1 with a 400 that names Anthropic", () => {
    assert.throws(
      () => chatToAnthropic({ messages: [user("x")], n: 3 }, "d", 10),
      (error: unknown) =>
        error instanceof ProxyError && error.param === "n" && error.message.includes("Anthropic"),
    );
  });
});
