/**
 * A Chat Completions client (the official `openai` SDK) against every model family Azure serves
 * differently: a Responses-only codex deployment, a Claude deployment, a reasoning deployment
 * sent max_tokens and temperature, a Foundry model on a dated-style resource, and plain chat.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type OpenAI from "openai";
import { type Stack, startStack } from "../helpers/stack.ts";
import { sdkClient } from "./sdk-harness.ts";

const DEPLOYMENTS = [
  { id: "gpt-4o", model: "gpt-4o" },
  { id: "codex", model: "gpt-5-codex" },
  { id: "o3-mini", model: "o3-mini" },
  { id: "DeepSeek-R1", model: "DeepSeek-R1" },
  { id: "claude-sonnet-4-5", model: "claude-sonnet-4-5" },
  // Names that say nothing: only the listing (or Azure's refusals) tell the family.
  { id: "prod", model: "gpt-5-codex" },
  { id: "thinker", model: "o4-mini" },
];

const FAMILIES = ["gpt-4o", "codex", "o3-mini", "DeepSeek-R1", "claude-sonnet-4-5"] as const;

const weatherTool: OpenAI.Chat.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "The weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

describe("every model family through Chat Completions", () => {
  let stack: Stack;
  let client: OpenAI;
  before(async () => {
    stack = await startStack({ emulator: { deployments: DEPLOYMENTS, chunkDelayMs: 0 } });
    client = sdkClient(stack);
  });
  after(() => stack.close());

  for (const model of FAMILIES) {
    it(`answers chat (${model})`, async () => {
      const completion = await client.chat.completions.create({
        model,
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hi there" },
        ],
      });
      const choice = completion.choices[0];
      assert.match(choice?.message.content ?? "", /You said: Hi there/);
      assert.equal(choice?.finish_reason, "stop");
      assert.ok((completion.usage?.prompt_tokens ?? 0) > 0);
    });

    it(`streams chat with usage when asked (${model})`, async () => {
      const stream = await client.chat.completions.create({
        model,
        messages: [{ role: "user", content: "Hi there" }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = "";
      let finish: string | null | undefined;
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        finish ??= chunk.choices[0]?.finish_reason;
        if (chunk.usage) usage = chunk.usage;
      }
      assert.match(text, /You said: Hi there/);
      assert.equal(finish, "stop");
      assert.ok((usage?.completion_tokens ?? 0) > 0);
    });

    it(`carries a tool round trip with the tool's result (${model})`, async () => {
      const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
        { role: "user", content: "What is the weather in Paris?" },
      ];
      const first = await client.chat.completions.create({ model, messages, tools: [weatherTool] });
      const call = first.choices[0]?.message.tool_calls?.[0];
      assert.equal(first.choices[0]?.finish_reason, "tool_calls");
      assert.ok(call !== undefined && call.type === "function");
      assert.equal(call.function.name, "get_weather");
      assert.deepEqual(JSON.parse(call.function.arguments), { city: "emulator" });
      messages.push(first.choices[0]?.message as OpenAI.Chat.ChatCompletionMessageParam, {
        role: "tool",
        tool_call_id: call.id,
        content: "18C and sunny",
      });
      const second = await client.chat.completions.create({
        model,
        messages,
        tools: [weatherTool],
      });
      assert.equal(second.choices[0]?.finish_reason, "stop");
      assert.ok((second.choices[0]?.message.content ?? "").length > 0);
    });

    it(`streams a tool call the SDK assembles (${model})`, async () => {
      const runner = client.chat.completions.stream({
        model,
        messages: [{ role: "user", content: "What is the weather in Paris?" }],
        tools: [weatherTool],
      });
      const final = await runner.finalChatCompletion();
      const call = final.choices[0]?.message.tool_calls?.[0];
      assert.equal(final.choices[0]?.finish_reason, "tool_calls");
      assert.equal(call?.type === "function" ? call.function.name : undefined, "get_weather");
      assert.equal(
        call?.type === "function" ? call.function.arguments : undefined,
        '{"city":"emulator"}',
      );
    });

    it(`answers json_schema with JSON fitting the schema (${model})`, async () => {
      const completion = await client.chat.completions.create({
        model,
        messages: [{ role: "user", content: "Give me a number" }],
        response_format: {
          type: "json_schema",
          json_schema: {
            name: "answer",
            schema: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] },
          },
        },
      });
      assert.deepEqual(JSON.parse(completion.choices[0]?.message.content ?? ""), { n: 1 });
    });

    it(`takes an image part (${model})`, async () => {
      const completion = await client.chat.completions.create({
        model,
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is this?" },
              { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
            ],
          },
        ],
      });
      assert.match(completion.choices[0]?.message.content ?? "", /What is this\?/);
    });
  }

  it("lists Claude and Foundry deployments in /v1/models, owned_by naming the provider", async () => {
    const owners = new Map<string, string>();
    for await (const model of client.models.list()) owners.set(model.id, model.owned_by);
    assert.equal(owners.get("claude-sonnet-4-5"), "anthropic");
    assert.equal(owners.get("DeepSeek-R1"), "deepseek");
    assert.equal(owners.get("codex"), "azure-openai");
  });

  it("sends a codex deployment's chat over the Responses API", async () => {
    await client.chat.completions.create({
      model: "codex",
      messages: [{ role: "user", content: "Hi" }],
    });
    const sent = stack.emulator.requests.findLast((r) => r.method === "POST");
    assert.equal(sent?.path, "/openai/v1/responses");
    assert.equal((sent?.json as { store?: boolean } | undefined)?.store, false);
  });

  it("sends Claude's chat to /anthropic/v1/messages with the key as x-api-key", async () => {
    await client.chat.completions.create({
      model: "claude-sonnet-4-5",
      messages: [{ role: "user", content: "Hi" }],
    });
    const sent = stack.emulator.requests.findLast((r) => r.method === "POST");
    assert.equal(sent?.path, "/anthropic/v1/messages");
    assert.equal(sent?.headers["anthropic-version"], "2023-06-01");
    assert.equal(sent?.headers["x-api-key"], "emulator-key");
    assert.equal(sent?.headers["api-key"], undefined);
  });

  it("adapts max_tokens and temperature for a reasoning model and says so in a header", async () => {
    const { data, response } = await client.chat.completions
      .create({
        model: "o3-mini",
        messages: [{ role: "user", content: "Hi" }],
        max_tokens: 50,
        temperature: 0.2,
      })
      .withResponse();
    assert.equal(data.choices[0]?.finish_reason, "stop");
    assert.equal(
      response.headers.get("x-azure-oai-proxy-adapted"),
      "max_tokens->max_completion_tokens,-temperature",
    );
  });

  it("calls a Foundry model through v1 even on a dated-style resource", async () => {
    await client.chat.completions.create({
      model: "DeepSeek-R1",
      messages: [{ role: "user", content: "Hi" }],
    });
    const sent = stack.emulator.requests.findLast((r) => r.method === "POST");
    assert.equal(sent?.path, "/openai/v1/chat/completions");
    assert.equal((sent?.json as { model?: string } | undefined)?.model, "DeepSeek-R1");
  });

  it("turns Anthropic's refusal into an OpenAI error with the status kept", async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: "claude-sonnet-4-5",
        messages: [
          {
            role: "user",
            content: [{ type: "image_url", image_url: { url: "data:image/bmp;base64,AAAA" } }],
          },
        ],
      }),
      (error: { status?: number; error?: { type?: string; message?: string } }) =>
        error.status === 400 &&
        error.error?.type === "invalid_request_error" &&
        /media_type/.test(error.error?.message ?? ""),
    );
  });
});

describe("families learned from Azure's refusals", () => {
  let stack: Stack;
  let client: OpenAI;
  before(async () => {
    // No listing: the proxy knows only the deployments' names.
    stack = await startStack({
      emulator: { deployments: DEPLOYMENTS, chunkDelayMs: 0, listDeployments: false },
    });
    client = sdkClient(stack);
  });
  after(() => stack.close());

  it("retries a chat refused with OperationNotSupported over the Responses API, and remembers", async () => {
    const first = await client.chat.completions.create({
      model: "prod",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.match(first.choices[0]?.message.content ?? "", /You said: Hi/);
    const paths = stack.emulator.requests.filter((r) => r.method === "POST").map((r) => r.path);
    assert.deepEqual(paths.slice(-2), [
      "/openai/deployments/prod/chat/completions",
      "/openai/v1/responses",
    ]);
    const before = stack.emulator.requests.length;
    await client.chat.completions.create({
      model: "prod",
      messages: [{ role: "user", content: "Again" }],
    });
    const next = stack.emulator.requests
      .slice(before)
      .filter((r) => r.method === "POST")
      .map((r) => r.path);
    assert.deepEqual(next, ["/openai/v1/responses"]);
  });

  it("renames max_tokens and drops temperature after Azure's 400s, once each, and says so", async () => {
    const { data, response } = await client.chat.completions
      .create({
        model: "thinker",
        messages: [{ role: "user", content: "Hi" }],
        max_tokens: 40,
        temperature: 0.3,
      })
      .withResponse();
    assert.equal(data.choices[0]?.finish_reason, "stop");
    assert.equal(
      response.headers.get("x-azure-oai-proxy-adapted"),
      "max_tokens->max_completion_tokens,-temperature",
    );
    const before = stack.emulator.requests.length;
    await client.chat.completions.create({
      model: "thinker",
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 40,
      temperature: 0.3,
    });
    assert.equal(stack.emulator.requests.length - before, 1, "remembered: one upstream call");
  });
});
