/** A serverless (models.ai.azure.com) model through the proxy: a `kind: serverless` resource. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type OpenAI from "openai";
import { type PoolStack, startPoolStack } from "../helpers/stack.ts";
import { sdkClient } from "./sdk-harness.ts";

describe("a serverless model through Chat Completions", () => {
  let stack: PoolStack;
  let client: OpenAI;
  before(async () => {
    stack = await startPoolStack({
      resources: {
        main: { chunkDelayMs: 0 },
        llama: {
          chunkDelayMs: 0,
          apiKeys: ["serverless-key"],
          serverlessModel: "Meta-Llama-3.1-405B-Instruct",
        },
      },
      yaml: (urls) => `
resources:
  main: { endpoint: "${urls.main}", apiKey: "\${EMULATOR_KEY}" }
  llama: { kind: serverless, endpoint: "${urls.llama}", apiKey: serverless-key }
models:
  llama-3.1-405B:
    targets: [{ resource: llama, deployment: Meta-Llama-3-1-405B-Instruct }]
`,
    });
    client = sdkClient(stack as never);
  });
  after(() => stack.close());

  it("answers and streams from the serverless endpoint with its own Bearer key", async () => {
    const completion = await client.chat.completions.create({
      model: "llama-3.1-405B",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(completion.model, "Meta-Llama-3.1-405B-Instruct");
    const sent = stack.emulators.llama?.requests.findLast((r) => r.method === "POST");
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
  });
});
