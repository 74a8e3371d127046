import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { anthropicEndpoint, anthropicMessagesUrl } from "../../src/azure/anthropic-endpoint.ts";

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
