import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { indexDeployments } from "../../src/azure/deployment-index.ts";
import { isSafeModelName } from "../../src/config/model-name.ts";
import { defaultDeploymentName, resolveDeployment } from "../../src/routing/resolve-deployment.ts";

const none = new Map<string, string>();

describe("resolveDeployment", () => {
  it("maps gpt-3.5-turbo to gpt-35-turbo with the built-in table", () => {
    assert.equal(resolveDeployment("gpt-3.5-turbo", none), "gpt-35-turbo");
    assert.equal(resolveDeployment("whisper-1", none), "whisper");
    assert.equal(resolveDeployment("tts-1-hd", none), "tts-hd");
  });

  it("rewrites any gpt-3.5-turbo-* name by prefix", () => {
    assert.equal(defaultDeploymentName("gpt-3.5-turbo-0301"), "gpt-35-turbo-0301");
  });

  it("lets the mapper win, matching model names case-insensitively", () => {
    const mapper = new Map([["gpt-3.5-turbo", "my-turbo"]]);
    assert.equal(resolveDeployment("GPT-3.5-Turbo", mapper), "my-turbo");
  });

  it("passes unknown names through unchanged", () => {
    assert.equal(resolveDeployment("my-finetune", none), "my-finetune");
  });

  it("prefers a deployment that exists over the table's guess", () => {
    const known = indexDeployments([
      { id: "text-embedding-3-small", model: "text-embedding-3-small" },
    ]);
    assert.equal(resolveDeployment("text-embedding-3-small", none), "text-embedding-3-small-1");
    assert.equal(
      resolveDeployment("text-embedding-3-small", none, known),
      "text-embedding-3-small",
    );
  });

  it("finds a deployment serving the model when no name matches", () => {
    const known = indexDeployments([{ id: "prod-chat", model: "gpt-4o" }]);
    assert.equal(resolveDeployment("gpt-4o", none, known), "prod-chat");
    assert.equal(resolveDeployment("GPT-4O", none, known), "prod-chat");
  });

  it("keeps the table's answer when the deployments do not know the name", () => {
    const known = indexDeployments([{ id: "other", model: "other" }]);
    assert.equal(resolveDeployment("whisper-1", none, known), "whisper");
  });
});

describe("isSafeModelName", () => {
  it("accepts Azure and fine-tuned names", () => {
    for (const name of ["gpt-4o", "gpt-35-turbo-0613.ft-abc", "ft:gpt-4o:org:x:123", "my_dep"]) {
      assert.ok(isSafeModelName(name), name);
    }
  });
  it("refuses names that would change the URL's shape", () => {
    for (const name of [
      "",
      "a/b",
      "..",
      "a..b",
      "x?y",
      "x#y",
      "%2e%2e",
      "a\\b",
      "a\nb",
      "a\u0000",
    ]) {
      assert.equal(isSafeModelName(name), false, JSON.stringify(name));
    }
  });
});
