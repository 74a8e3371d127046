import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseServerlessDeployments } from "../../src/config/serverless.ts";

describe("parseServerlessDeployments", () => {
  it("reads AZURE_AI_STUDIO_DEPLOYMENTS with a key per model, as the Go proxy did", () => {
    const problems: string[] = [];
    const env = {
      "AZURE_OPENAI_KEY_MISTRAL-LARGE-2407": "k1",
      AZURE_OPENAI_KEY_LLAMA_3_1_405B: "k2",
    };
    const out = parseServerlessDeployments(
      "mistral-large-2407=Mistral-large2:swedencentral, llama-3.1-405B=Meta-Llama-3-1-405B-Instruct:northcentralus,phi=Phi3:eastus",
      env,
      problems,
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(out, [
      {
        model: "mistral-large-2407",
        endpoint: "https://mistral-large2.swedencentral.models.ai.azure.com",
        apiKey: "k1",
      },
      {
        model: "llama-3.1-405b",
        endpoint: "https://meta-llama-3-1-405b-instruct.northcentralus.models.ai.azure.com",
        apiKey: "k2",
      },
      { model: "phi", endpoint: "https://phi3.eastus.models.ai.azure.com", apiKey: undefined },
    ]);
  });

  it("names each entry it cannot read", () => {
    const problems: string[] = [];
    assert.deepEqual(parseServerlessDeployments("bad,x=Name,y=a/b:eastus", {}, problems), []);
    assert.equal(problems.length, 3);
    assert.match(problems[0] ?? "", /AZURE_AI_STUDIO_DEPLOYMENTS: "bad" is not model=Name:region/);
  });
});

describe("parseServerlessDeployments with a whole endpoint", () => {
  it("takes model=https://host for a private or test endpoint", () => {
    const problems: string[] = [];
    assert.deepEqual(
      parseServerlessDeployments(
        "llama=http://127.0.0.1:4000/",
        { AZURE_OPENAI_KEY_LLAMA: "k" },
        problems,
      ),
      [{ model: "llama", endpoint: "http://127.0.0.1:4000", apiKey: "k" }],
    );
    assert.deepEqual(problems, []);
  });
});
