import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chatExchangeFor } from "../../src/adapters/chat-exchange.ts";
import { isChatNotSupported } from "../../src/adapters/operation-not-supported.ts";
import { modelFamily } from "../../src/routing/model-family.ts";

const chat = {
  model: "m",
  messages: [{ role: "user", content: "Hi" }],
  max_tokens: 10,
  temperature: 0.2,
  stream: true,
  stream_options: { include_usage: true },
};

describe("chatExchangeFor", () => {
  it("passes chat and Foundry requests through untouched", () => {
    for (const name of ["gpt-4o", "DeepSeek-R1"]) {
      const exchange = chatExchangeFor(modelFamily(name));
      assert.equal(exchange.api, "chat");
      assert.equal(exchange.requestBody(chat, name).body, chat);
      assert.equal(exchange.streamTranslator(), undefined);
    }
  });

  it("adapts parameters for reasoning models", () => {
    const exchange = chatExchangeFor(modelFamily("o4-mini"));
    const { body, adapted } = exchange.requestBody(chat, "o4-mini");
    assert.equal(exchange.api, "chat");
    assert.equal(body.max_completion_tokens, 10);
    assert.deepEqual(adapted, ["max_tokens->max_completion_tokens", "-temperature"]);
  });

  it("sends Responses-only models over the Responses API and streams usage when asked", () => {
    const exchange = chatExchangeFor(modelFamily("gpt-5-codex"));
    assert.equal(exchange.api, "responses");
    assert.equal(exchange.requestBody(chat, "codex").body.max_output_tokens, 10);
    const stream = exchange.streamTranslator();
    const out = Buffer.concat([
      stream?.push(
        Buffer.from(
          `data: ${JSON.stringify({ type: "response.completed", response: { id: "r", model: "m", created_at: 1, status: "completed", usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3 } } })}\n\n`,
        ),
      ) ?? Buffer.alloc(0),
    ]).toString();
    assert.match(out, /"usage":\{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3/);
  });

  it("sends Claude over Anthropic's Messages API and translates its errors", () => {
    const exchange = chatExchangeFor(modelFamily("claude-sonnet-4-5"));
    assert.equal(exchange.api, "anthropic-messages");
    assert.equal(
      exchange.requestBody({ messages: chat.messages }, "claude").body.max_tokens,
      64000,
    );
    assert.deepEqual(
      exchange.errorBody(400, {
        type: "error",
        error: { type: "invalid_request_error", message: "bad" },
      }),
      {
        error: {
          message: "bad",
          type: "invalid_request_error",
          param: null,
          code: "invalid_request_error",
        },
      },
    );
  });
});

describe("isChatNotSupported", () => {
  it("recognises Azure's refusal of chat for a Responses-only model", () => {
    const body = {
      error: {
        code: "OperationNotSupported",
        message:
          "The chatCompletion operation does not work with the specified model, gpt-5-codex. Please choose different model and try again.",
      },
    };
    assert.equal(isChatNotSupported(400, body), true);
    assert.equal(isChatNotSupported(404, body), false);
    assert.equal(
      isChatNotSupported(400, {
        error: {
          code: "OperationNotSupported",
          message: "The embeddings operation does not work with the specified model, gpt-4o.",
        },
      }),
      false,
    );
  });
});
