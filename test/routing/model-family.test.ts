import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { modelFamily, modelProvider } from "../../src/routing/model-family.ts";

const familyOf = (name: string) => modelFamily(name).family;

describe("modelFamily", () => {
  it("knows the Responses-only models", () => {
    for (const name of [
      "gpt-5-codex",
      "gpt-5.1-codex-max",
      "codex-mini",
      "gpt-5-pro",
      "o1-pro",
      "o3-pro-2025-06-10",
      "computer-use-preview",
      "o3-deep-research",
    ]) {
      assert.equal(familyOf(name), "responses-only", name);
    }
  });

  it("knows the reasoning models", () => {
    for (const name of [
      "o1",
      "o1-mini",
      "o3",
      "o3-mini",
      "o4-mini",
      "gpt-5",
      "gpt-5-mini",
      "gpt-5.2",
    ]) {
      assert.equal(familyOf(name), "reasoning", name);
    }
  });

  it("knows Claude, with a default max_tokens", () => {
    assert.deepEqual(modelFamily("claude-sonnet-4-5"), {
      family: "anthropic",
      defaultMaxTokens: 64000,
    });
    assert.deepEqual(modelFamily("claude-opus-4-1"), {
      family: "anthropic",
      defaultMaxTokens: 32000,
    });
    assert.deepEqual(modelFamily("claude-3-5-haiku"), {
      family: "anthropic",
      defaultMaxTokens: 8192,
    });
  });

  it("knows the Foundry models", () => {
    for (const name of [
      "DeepSeek-R1",
      "Llama-3.3-70B-Instruct",
      "Mistral-Large-2411",
      "grok-3",
      "Phi-4",
      "gpt-oss-120b",
    ]) {
      assert.equal(familyOf(name), "foundry", name);
    }
  });

  it("treats every other name as chat, gpt-5-chat included", () => {
    for (const name of ["gpt-4o", "gpt-4.1-mini", "gpt-35-turbo", "my-deployment", "gpt-5-chat"]) {
      assert.equal(familyOf(name), "chat", name);
    }
  });

  it("judges by the model a deployment runs before its name", () => {
    assert.equal(modelFamily("prod", "gpt-5-codex").family, "responses-only");
    assert.equal(modelFamily("codex-named-gpt4o", "gpt-4o").family, "chat");
    assert.equal(modelFamily("claude", "claude-sonnet-4-5").family, "anthropic");
    assert.equal(modelFamily("o3-prod").family, "reasoning");
    assert.equal(modelFamily("prod", "o4-mini-2025-04-16.ft-abc").family, "reasoning");
  });
});

describe("modelProvider", () => {
  it("names who makes a model, for owned_by in /v1/models", () => {
    assert.equal(modelProvider("claude-sonnet-4-5"), "anthropic");
    assert.equal(modelProvider("DeepSeek-R1"), "deepseek");
    assert.equal(modelProvider("Llama-3.3-70B-Instruct"), "meta");
    assert.equal(modelProvider("grok-3"), "xai");
    assert.equal(modelProvider("gpt-4o"), "azure-openai");
  });
});
