import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Emulator, startEmulator } from "../src/index.ts";
import { FAMILY_DEPLOYMENTS, fetchAzure, KEY } from "./client.ts";

const HEADERS = {
  "x-api-key": KEY,
  "anthropic-version": "2023-06-01",
  "content-type": "application/json",
};
const hi = { model: "claude", max_tokens: 100, messages: [{ role: "user", content: "Hi" }] };
const weatherTool = {
  name: "weather",
  description: "Weather",
  input_schema: { type: "object", properties: { city: { type: "string" } } },
};

describe("Claude at /anthropic/v1/messages", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({ chunkDelayMs: 0, deployments: FAMILY_DEPLOYMENTS });
  });
  after(() => emulator.close());

  const post = (body: unknown, headers: Record<string, string> = HEADERS) =>
    fetchAzure(`${emulator.url}/anthropic/v1/messages`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });

  it("answers a message in Anthropic's shape", async () => {
    const res = await post(hi);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.type, "message");
    assert.equal(body.role, "assistant");
    assert.equal(body.model, "claude-sonnet-4-5");
    assert.equal(body.stop_reason, "end_turn");
    assert.match(body.content[0].text, /You said: Hi/);
    assert.deepEqual(Object.keys(body.usage).sort(), [
      "cache_creation_input_tokens",
      "cache_read_input_tokens",
      "input_tokens",
      "output_tokens",
    ]);
  });

  it("takes the key as x-api-key or Bearer, and refuses a wrong one in Anthropic's shape", async () => {
    const bearer = await post(hi, { ...HEADERS, "x-api-key": "", authorization: `Bearer ${KEY}` });
    assert.equal(bearer.status, 401); // an empty x-api-key decides alone
    const onlyBearer = await post(hi, {
      "anthropic-version": "2023-06-01",
      "content-type": "application/json",
      authorization: `Bearer ${KEY}`,
    });
    assert.equal(onlyBearer.status, 200);
    const wrong = await post(hi, { ...HEADERS, "x-api-key": "nope" });
    assert.equal(wrong.status, 401);
    assert.deepEqual(await wrong.json(), {
      type: "error",
      error: { type: "authentication_error", message: "invalid x-api-key" },
    });
  });

  it("requires the anthropic-version header", async () => {
    const res = await post(hi, { "x-api-key": KEY, "content-type": "application/json" });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      type: "error",
      error: { type: "invalid_request_error", message: "anthropic-version: header is required" },
    });
  });

  for (const [name, body, message] of [
    ["max_tokens is missing", { ...hi, max_tokens: undefined }, "max_tokens: Field required"],
    ["a field is not Anthropic's", { ...hi, n: 1 }, "n: Extra inputs are not permitted"],
    [
      "a message has the system role",
      { ...hi, messages: [{ role: "system", content: "x" }, ...hi.messages] },
      'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.',
    ],
    [
      "a text block is empty",
      { ...hi, messages: [{ role: "user", content: [{ type: "text", text: "" }] }] },
      "messages: text content blocks must be non-empty",
    ],
    [
      "temperature is above 1",
      { ...hi, temperature: 1.5 },
      "temperature: Input should be less than or equal to 1",
    ],
    [
      "a tool_use has no tool_result after it",
      {
        ...hi,
        messages: [
          { role: "user", content: "Weather?" },
          {
            role: "assistant",
            content: [{ type: "tool_use", id: "toolu_1", name: "weather", input: {} }],
          },
          { role: "user", content: "Well?" },
        ],
      },
      "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
    ],
    [
      "a tool_result answers no tool_use",
      {
        ...hi,
        messages: [
          {
            role: "user",
            content: [{ type: "tool_result", tool_use_id: "toolu_9", content: "18C" }],
          },
        ],
      },
      "messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_9. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.",
    ],
    [
      "an image has an unknown media type",
      {
        ...hi,
        messages: [
          {
            role: "user",
            content: [
              { type: "image", source: { type: "base64", media_type: "image/bmp", data: "AAAA" } },
            ],
          },
        ],
      },
      "messages.0.content.0.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'",
    ],
  ] as const) {
    it(`refuses a request where ${name}, with Anthropic's message`, async () => {
      const res = await post(body);
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), {
        type: "error",
        error: { type: "invalid_request_error", message },
      });
    });
  }

  it("answers an unknown or non-Claude deployment with not_found_error", async () => {
    for (const model of ["nope", "gpt-4o"]) {
      const res = await post({ ...hi, model });
      assert.equal(res.status, 404);
      assert.deepEqual(await res.json(), {
        type: "error",
        error: { type: "not_found_error", message: `model: ${model}` },
      });
    }
  });

  it("uses a tool, then answers its result in words", async () => {
    const first = await (
      await post({
        ...hi,
        tools: [weatherTool],
        messages: [{ role: "user", content: "Weather in Paris?" }],
      })
    ).json();
    assert.equal(first.stop_reason, "tool_use");
    const [use] = first.content;
    assert.deepEqual(
      { type: use.type, name: use.name, input: use.input },
      {
        type: "tool_use",
        name: "weather",
        input: { city: "emulator" },
      },
    );
    const second = await post({
      ...hi,
      tools: [weatherTool],
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "18C" }] },
      ],
    });
    assert.equal(second.status, 200);
    assert.equal((await second.json()).stop_reason, "end_turn");
  });

  it("streams Anthropic's event sequence", async () => {
    const res = await post({ ...hi, stream: true });
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const text = await res.text();
    const types = [...text.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
    assert.deepEqual(
      [...new Set(types)],
      [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
      ],
    );
    assert.equal(types.at(-1), "message_stop");
  });

  it("streams a tool_use block as input_json_delta pieces", async () => {
    const res = await post({
      ...hi,
      stream: true,
      tools: [weatherTool],
      tool_choice: { type: "any" },
    });
    const text = await res.text();
    const json = [...text.matchAll(/"partial_json":"((?:[^"\\]|\\.)*)"/g)]
      .map((m) => JSON.parse(`"${m[1]}"`))
      .join("");
    assert.equal(json, '{"city":"emulator"}');
    assert.match(text, /"stop_reason":"tool_use"/);
  });

  it("stops at max_tokens", async () => {
    const body = await (await post({ ...hi, max_tokens: 2 })).json();
    assert.equal(body.stop_reason, "max_tokens");
    assert.equal(body.usage.output_tokens, 2);
  });
});

describe("serverless endpoint", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({
      chunkDelayMs: 0,
      serverlessModel: "Meta-Llama-3.1-405B-Instruct",
    });
  });
  after(() => emulator.close());

  it("answers OpenAI-shaped chat at /v1/chat/completions and /chat/completions with a Bearer key", async () => {
    for (const path of ["/v1/chat/completions", "/chat/completions"]) {
      const res = await fetchAzure(`${emulator.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }] }),
      });
      assert.equal(res.status, 200, path);
      assert.equal((await res.json()).model, "Meta-Llama-3.1-405B-Instruct");
    }
  });

  it("refuses a key sent as api-key", async () => {
    const res = await fetchAzure(`${emulator.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "api-key": KEY, "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }] }),
    });
    assert.equal(res.status, 401);
  });
});
