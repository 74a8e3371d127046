import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Emulator, startEmulator } from "../src/index.ts";
import {
  chatBody,
  FAMILY_DEPLOYMENTS,
  jsonEvents,
  postDated,
  postV1,
  readEvents,
} from "./client.ts";

describe("model families", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ chunkDelayMs: 0, deployments: FAMILY_DEPLOYMENTS });
  });
  after(() => emulator.close());

  it("answers chat on a Responses-only model with 400 OperationNotSupported", async () => {
    const res = await postDated(emulator, "codex", "chat/completions", chatBody("Hi"));
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.error.code, "OperationNotSupported");
    assert.match(
      body.error.message,
      /^The chatCompletion operation does not work with the specified model, gpt-5-codex\./,
    );
  });

  it("serves a Responses-only model through the Responses API, refusing temperature", async () => {
    const ok = await postV1(emulator, "responses", { model: "codex", input: "Hi" });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).status, "completed");
    const hot = await postV1(emulator, "responses", {
      model: "codex",
      input: "Hi",
      temperature: 0.2,
    });
    assert.equal(hot.status, 400);
    assert.deepEqual((await hot.json()).error, {
      message: "Unsupported parameter: 'temperature' is not supported with this model.",
      type: "invalid_request_error",
      param: "temperature",
      code: "unsupported_parameter",
    });
  });

  it("calls a function over the Responses API, then answers the function's output in words", async () => {
    const tools = [
      {
        type: "function",
        name: "weather",
        parameters: { type: "object", properties: { city: { type: "string" } } },
        strict: false,
      },
    ];
    const first = await (
      await postV1(emulator, "responses", {
        model: "codex",
        input: "Weather in Paris?",
        tools,
        store: false,
      })
    ).json();
    const [call] = first.output;
    assert.equal(call.type, "function_call");
    assert.equal(call.name, "weather");
    assert.equal(call.arguments, '{"city":"emulator"}');
    const second = await (
      await postV1(emulator, "responses", {
        model: "codex",
        tools,
        store: false,
        input: [
          { role: "user", content: "Weather in Paris?" },
          {
            type: "function_call",
            call_id: call.call_id,
            name: "weather",
            arguments: call.arguments,
          },
          { type: "function_call_output", call_id: call.call_id, output: "18C" },
        ],
      })
    ).json();
    assert.equal(second.output[0].type, "message");
  });

  it("refuses a function output that answers no function call", async () => {
    const res = await postV1(emulator, "responses", {
      model: "codex",
      input: [{ type: "function_call_output", call_id: "call_x", output: "18C" }],
    });
    assert.equal(res.status, 400);
    assert.equal(
      (await res.json()).error.message,
      "No tool call found for function call output with call_id call_x.",
    );
  });

  it("streams a function call over the Responses API as argument deltas", async () => {
    const res = await postV1(emulator, "responses", {
      model: "codex",
      input: "Weather?",
      stream: true,
      tools: [
        {
          type: "function",
          name: "weather",
          parameters: { type: "object", properties: { city: { type: "string" } } },
        },
      ],
    });
    const text = await res.text();
    const deltas = [
      ...text.matchAll(
        /"type":"response\.function_call_arguments\.delta".*?"delta":"((?:[^"\\]|\\.)*)"/g,
      ),
    ]
      .map((m) => JSON.parse(`"${m[1]}"`))
      .join("");
    assert.equal(deltas, '{"city":"emulator"}');
  });

  it("answers a json_schema text format with JSON fitting the schema", async () => {
    const schema = {
      type: "object",
      properties: { n: { type: "integer" }, ok: { type: "boolean" } },
    };
    const body = await (
      await postV1(emulator, "responses", {
        model: "gpt-4o",
        input: "x",
        text: { format: { type: "json_schema", name: "A", schema } },
      })
    ).json();
    assert.deepEqual(JSON.parse(body.output[0].content[0].text), { n: 1, ok: true });
  });

  it("refuses max_tokens on a reasoning model with Azure's words", async () => {
    const res = await postDated(
      emulator,
      "o3-mini",
      "chat/completions",
      chatBody("Hi", { max_tokens: 50 }),
    );
    assert.equal(res.status, 400);
    assert.deepEqual((await res.json()).error, {
      message:
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      type: "invalid_request_error",
      param: "max_tokens",
      code: "unsupported_parameter",
    });
  });

  it("refuses a non-default temperature on a reasoning model with Azure's words", async () => {
    const res = await postDated(
      emulator,
      "o3-mini",
      "chat/completions",
      chatBody("Hi", { temperature: 0.2 }),
    );
    assert.equal(res.status, 400);
    assert.deepEqual((await res.json()).error, {
      message:
        "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.",
      type: "invalid_request_error",
      param: "temperature",
      code: "unsupported_value",
    });
  });

  it("answers a reasoning model given max_completion_tokens and the default temperature", async () => {
    const res = await postDated(
      emulator,
      "o3-mini",
      "chat/completions",
      chatBody("Hi", { max_completion_tokens: 50, temperature: 1 }),
    );
    assert.equal(res.status, 200);
  });

  it("serves a Foundry model only through v1", async () => {
    const dated = await postDated(emulator, "deepseek", "chat/completions", chatBody("Hi"));
    assert.equal(dated.status, 404);
    assert.equal((await dated.json()).error.code, "DeploymentNotFound");
    const v1 = await postV1(
      emulator,
      "chat/completions",
      chatBody("Hi", { model: "deepseek", max_tokens: 20 }),
    );
    assert.equal(v1.status, 200);
    assert.equal((await v1.json()).model, "DeepSeek-R1");
  });

  it("answers chat after a tool result in words, and a json_schema format with fitting JSON", async () => {
    const res = await postDated(emulator, "gpt-4o", "chat/completions", {
      messages: [
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          tool_calls: [
            { id: "c1", type: "function", function: { name: "weather", arguments: "{}" } },
          ],
        },
        { role: "tool", tool_call_id: "c1", content: "18C" },
      ],
      tools: [{ type: "function", function: { name: "weather" } }],
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "W",
          schema: { type: "object", properties: { c: { type: "number" } } },
        },
      },
    });
    const body = await res.json();
    assert.equal(body.choices[0].finish_reason, "stop");
    assert.deepEqual(JSON.parse(body.choices[0].message.content), { c: 1 });
  });

  it("refuses chat on a Claude deployment: Claude speaks only Anthropic's API", async () => {
    const res = await postV1(emulator, "chat/completions", chatBody("Hi", { model: "claude" }));
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, "OperationNotSupported");
  });

  it("streams chat on a reasoning model", async () => {
    const res = await postDated(
      emulator,
      "o3-mini",
      "chat/completions",
      chatBody("Hi", { stream: true }),
    );
    const events = jsonEvents(await readEvents(res));
    assert.equal(events.at(-1).choices[0].finish_reason, "stop");
  });
});
