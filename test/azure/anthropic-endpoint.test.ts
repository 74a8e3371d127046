import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  anthropicEndpoint,
  anthropicMessagesUrl,
  forClaude,
} from "../../src/azure/anthropic-endpoint.ts";
import type { ResourceConfig } from "../../src/config/topology.ts";

describe("anthropicEndpoint", () => {
  it("serves Claude from the resource's services.ai.azure.com host", () => {
    assert.equal(
      anthropicEndpoint("https://my-res.openai.azure.com"),
      "https://my-res.services.ai.azure.com",
    );
    assert.equal(
      anthropicEndpoint("https://my-res.cognitiveservices.azure.com/"),
      "https://my-res.services.ai.azure.com",
    );
    assert.equal(
      anthropicMessagesUrl("https://my-res.openai.azure.com"),
      "https://my-res.services.ai.azure.com/anthropic/v1/messages",
    );
  });

  it("uses any other host as it is (a Foundry host, the emulator)", () => {
    assert.equal(
      anthropicEndpoint("https://my-res.services.ai.azure.com"),
      "https://my-res.services.ai.azure.com",
    );
    assert.equal(
      anthropicMessagesUrl("http://127.0.0.1:4100"),
      "http://127.0.0.1:4100/anthropic/v1/messages",
    );
  });
});

describe("forClaude", () => {
  const resource: ResourceConfig = {
    name: "r",
    endpoint: "https://r.openai.azure.com",
    apiStyle: "dated",
    apiVersion: "2024-10-21",
    apiKey: undefined,
    entra: {
      credential: "managed-identity",
      scope: "https://cognitiveservices.azure.com/.default",
    },
  };

  it("asks Entra ID for Foundry's scope on Claude's route", () => {
    assert.equal(forClaude(resource).entra?.scope, "https://ai.azure.com/.default");
    assert.equal(forClaude(resource).entra?.credential, "managed-identity");
  });

  it("keeps a scope set on purpose, and key resources as they are", () => {
    const custom = {
      ...resource,
      entra: { credential: "cli" as const, scope: "api://custom/.default" },
    };
    assert.equal(forClaude(custom), custom);
    const keyed = { ...resource, entra: undefined, apiKey: "k" };
    assert.equal(forClaude(keyed), keyed);
  });
});
