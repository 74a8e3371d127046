/** Anthropic-native clients (the official `@anthropic-ai/sdk`) through the proxy's /v1/messages. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { EMULATOR_KEY, type Stack, startStack } from "../helpers/stack.ts";

describe("the Anthropic SDK through /v1/messages", () => {
  let stack: Stack;
  let client: Anthropic;
  before(async () => {
    stack = await startStack({
      emulator: {
        deployments: [{ id: "claude-prod", model: "claude-sonnet-4-5" }],
        chunkDelayMs: 0,
      },
      env: { AZURE_OPENAI_MODEL_MAPPER: "claude-sonnet-4-5=claude-prod" },
    });
    client = new Anthropic({ baseURL: stack.url, apiKey: EMULATOR_KEY, maxRetries: 0 });
  });
  after(() => stack.close());

  it("answers a message, the model mapped to its deployment and the key sent as x-api-key", async () => {
    const message = await client.messages.create({
      model: "claude-sonnet-4-5",
      max_tokens: 100,
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(message.type, "message");
    assert.match(
      message.content[0]?.type === "text" ? message.content[0].text : "",
      /You said: Hi/,
    );
    const sent = stack.emulator.requests.findLast((r) => r.method === "POST");
    assert.equal(sent?.path, "/anthropic/v1/messages");
    assert.equal((sent?.json as { model?: string } | undefined)?.model, "claude-prod");
    assert.equal(sent?.headers["x-api-key"], EMULATOR_KEY);
  });

  it("streams Anthropic's events untouched", async () => {
    const stream = client.messages.stream({
      model: "claude-sonnet-4-5",
      max_tokens: 100,
      messages: [{ role: "user", content: "Hi" }],
    });
    let text = "";
    stream.on("text", (delta) => {
      text += delta;
    });
    const final = await stream.finalMessage();
    assert.match(text, /You said: Hi/);
    assert.equal(final.stop_reason, "end_turn");
  });

  it("passes Anthropic's errors on in Anthropic's shape", async () => {
    await assert.rejects(
      client.messages.create({
        model: "claude-sonnet-4-5",
        max_tokens: 100,
        messages: [{ role: "system" as "user", content: "x" }],
      }),
      (error: unknown) =>
        error instanceof Anthropic.BadRequestError &&
        (error.error as { error?: { type?: string } }).error?.type === "invalid_request_error",
    );
  });

  it("serves the Go proxy's /v1/anthropic/messages path too", async () => {
    const res = await fetch(`${stack.url}/v1/anthropic/messages`, {
      method: "POST",
      headers: {
        "x-api-key": EMULATOR_KEY,
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
      },
      body: JSON.stringify({
        model: "claude-prod",
        max_tokens: 50,
        messages: [{ role: "user", content: "Yo" }],
      }),
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { role: string }).role, "assistant");
  });
});
