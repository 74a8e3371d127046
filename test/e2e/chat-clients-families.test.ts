/**
 * Chat-only frameworks against a codex (Responses-only) and a Claude deployment: LangChain's
 * ChatOpenAI and the AI SDK's streamText over the OpenAI chat model, unchanged.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createOpenAI } from "@ai-sdk/openai";
import { ChatOpenAI } from "@langchain/openai";
import { streamText } from "ai";
import { EMULATOR_KEY, type Stack, startStack } from "../helpers/stack.ts";

describe("LangChain and the AI SDK against codex and Claude", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      emulator: {
        chunkDelayMs: 0,
        deployments: [
          { id: "gpt-5-codex", model: "gpt-5-codex" },
          // LangChain speaks Responses on its own to codex-named models; this name makes it chat.
          { id: "coder", model: "gpt-5-codex" },
          { id: "claude-sonnet-4-5", model: "claude-sonnet-4-5" },
        ],
      },
    });
  });
  after(() => stack.close());

  for (const model of ["coder", "gpt-5-codex", "claude-sonnet-4-5"]) {
    it(`LangChain ChatOpenAI invokes and streams (${model})`, async () => {
      const llm = new ChatOpenAI({
        model,
        apiKey: EMULATOR_KEY,
        configuration: { baseURL: `${stack.url}/v1` },
        maxRetries: 0,
      });
      const answer = await llm.invoke("Hello LangChain");
      // (For codex names LangChain goes over the Responses API on its own; the proxy serves both.)
      assert.match(answer.text, /You said: Hello LangChain/);
      let streamed = "";
      for await (const chunk of await llm.stream("Hello stream")) streamed += chunk.text;
      assert.match(streamed, /You said: Hello stream/);
      if (model === "coder") {
        const sent = stack.emulator.requests.findLast((r) => r.method === "POST");
        assert.equal(sent?.path, "/openai/v1/responses", "chat translated to Responses");
      }
    });

    it(`the AI SDK streams text from the chat model (${model})`, async () => {
      const openai = createOpenAI({ baseURL: `${stack.url}/v1`, apiKey: EMULATOR_KEY });
      const result = streamText({
        model: openai.chat(model),
        prompt: "Hello AI SDK",
        maxRetries: 0,
      });
      let text = "";
      for await (const delta of result.textStream) text += delta;
      assert.match(text, /You said: Hello AI SDK/);
      assert.equal(await result.finishReason, "stop");
    });
  }
});
