/** A serverless (models.ai.azure.com) model through the proxy, as the Go proxy's AZURE_AI_STUDIO_DEPLOYMENTS. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Emulator, startEmulator } from "@azure-oai-proxy/emulator";
import type OpenAI from "openai";
import { type Stack, startStack } from "../helpers/stack.ts";
import { sdkClient } from "./sdk-harness.ts";

describe("a serverless model through Chat Completions", () => {
  let serverless: Emulator;
  let stack: Stack;
  let client: OpenAI;
  before(async () => {
    serverless = await startEmulator({
      chunkDelayMs: 0,
      apiKeys: ["serverless-key"],
      serverlessModel: "Meta-Llama-3.1-405B-Instruct",
    });
    stack = await startStack({
      env: {
        AZURE_AI_STUDIO_DEPLOYMENTS: `llama-3.1-405b=${serverless.url}`,
        "AZURE_OPENAI_KEY_LLAMA-3.1-405B": "serverless-key",
      },
    });
    client = sdkClient(stack);
  });
  after(async () => {
    await stack.close();
    await serverless.close();
  });

  it("answers and streams from the serverless endpoint with its own Bearer key", async () => {
    const completion = await client.chat.completions.create({
      model: "llama-3.1-405B",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(completion.model, "Meta-Llama-3.1-405B-Instruct");
    const sent = serverless.requests.at(-1);
    assert.equal(sent?.path, "/v1/chat/completions");
    assert.equal(sent?.headers.authorization, "Bearer serverless-key");
    assert.equal(sent?.headers["api-key"], undefined);

    const stream = await client.chat.completions.create({
      model: "llama-3.1-405B",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.match(text, /You said: Hi/);
  });

  it("leaves other models on the Azure resource", async () => {
    const completion = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.match(completion.model, /gpt-4o/);
    assert.equal(
      stack.emulator.requests.findLast((r) => r.method === "POST")?.path,
      "/openai/deployments/gpt-4o/chat/completions",
    );
  });
});
