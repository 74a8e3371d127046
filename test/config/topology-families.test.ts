import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AzureConfig } from "../../src/config/config.ts";
import { parseTopology, TopologyError, topologyFromEnv } from "../../src/config/topology.ts";

const azure: AzureConfig = {
  endpoint: undefined,
  apiStyle: "dated",
  apiVersion: "2024-10-21",
  apiKey: undefined,
  emulator: false,
};

describe("configuration for model families", () => {
  it("reads api: on models and targets, kind: serverless and anthropicEndpoint", async () => {
    const topology = await parseTopology(
      `
resources:
  main:
    endpoint: https://main.openai.azure.com
    anthropicEndpoint: https://main-foundry.services.ai.azure.com/anthropic
  llama:
    kind: serverless
    endpoint: https://llama.eastus.models.ai.azure.com
    apiKey: k
models:
  sonnet:
    api: anthropic
    targets:
      - { resource: main, deployment: my-claude }
  coder:
    targets:
      - { resource: main, deployment: prod, api: responses }
  llama:
    targets:
      - { resource: llama, deployment: llama }
`,
      "proxy.yaml",
      azure,
      {},
    );
    assert.equal(
      topology.resources.get("main")?.anthropicEndpoint,
      "https://main-foundry.services.ai.azure.com",
    );
    assert.equal(topology.resources.get("llama")?.kind, "serverless");
    assert.equal(topology.models.get("sonnet")?.targets[0]?.api, "anthropic");
    assert.equal(topology.models.get("coder")?.targets[0]?.api, "responses");
    assert.equal(topology.models.get("llama")?.targets[0]?.api, undefined);
  });

  it("names a wrong api: value", async () => {
    await assert.rejects(
      parseTopology(
        "models:\n  x:\n    api: grpc\n    targets:\n      - { resource: r, deployment: d }\nresources:\n  r: { endpoint: https://r.openai.azure.com }\n",
        "proxy.yaml",
        azure,
        {},
      ),
      (error: unknown) =>
        error instanceof TopologyError &&
        /models\.x\.api: "grpc" is not one of chat, responses, anthropic, v1/.test(error.message),
    );
  });

  it("makes one route per AZURE_AI_STUDIO_DEPLOYMENTS model, beside the environment's resource", () => {
    const topology = topologyFromEnv(
      { ...azure, endpoint: "https://main.openai.azure.com" },
      new Map([
        [
          "mistral-large",
          { model: "Mistral-Large", deployment: "Mistral-large2", region: "eastus", apiKey: "k" },
        ],
      ]),
    );
    assert.equal(topology.fallback?.endpoint, "https://main.openai.azure.com");
    const route = topology.models.get("mistral-large");
    const resource = topology.resources.get(route?.targets[0]?.resource ?? "");
    assert.equal(resource?.kind, "serverless");
    assert.equal(resource?.endpoint, "https://mistral-large2.eastus.models.ai.azure.com");
    assert.equal(resource?.apiKey, "k");
  });
});
