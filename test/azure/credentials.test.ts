import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resourceCredential } from "../../src/azure/credentials.ts";
import { ANONYMOUS } from "../../src/clients/authenticate.ts";
import type { ResourceConfig } from "../../src/config/topology.ts";
import { EntraTokens } from "../../src/identity/entra-tokens.ts";

const keyless: ResourceConfig = {
  name: "keyless",
  endpoint: "https://r.openai.azure.com",
  apiStyle: "dated",
  apiVersion: "2025-04-01-preview",
  apiKey: undefined,
  entra: { credential: "managed-identity", scope: "https://cognitiveservices.azure.com/.default" },
};
const client = {
  azureKey: "the-clients-own-key",
  proxyKey: false,
  authorization: undefined,
  client: ANONYMOUS,
};

function tokensIssuing(token: string): { tokens: EntraTokens; calls: () => number } {
  let calls = 0;
  const tokens = new EntraTokens([keyless], {
    createCredential: async () => ({
      async getToken() {
        calls += 1;
        return { token, expiresOnTimestamp: Date.now() + 3_600_000, tokenType: "Bearer" };
      },
    }),
  });
  return { tokens, calls: () => calls };
}

describe("resourceCredential", () => {
  it("sends a keyless resource its token as Bearer, never the client's key", async () => {
    const { tokens } = tokensIssuing("token-1");
    const credential = await resourceCredential(keyless, client, tokens);
    assert.deepEqual(credential, {
      header: "authorization",
      value: "Bearer token-1",
      cacheKey: "entra managed-identity https://cognitiveservices.azure.com/.default",
    });
    tokens.close();
  });

  it("answers without waiting once the token is cached", async () => {
    const { tokens, calls } = tokensIssuing("token-2");
    assert.ok(resourceCredential(keyless, client, tokens) instanceof Promise);
    await tokens.for(keyless.entra as NonNullable<typeof keyless.entra>).token();
    const credential = resourceCredential(keyless, client, tokens);
    assert.ok(!(credential instanceof Promise));
    assert.equal(credential.value, "Bearer token-2");
    assert.equal(calls(), 1);
    tokens.close();
  });

  it("keeps the client's key for a resource without Entra ID", () => {
    const { tokens } = tokensIssuing("unused");
    const keyed: ResourceConfig = { ...keyless, entra: undefined };
    assert.deepEqual(resourceCredential(keyed, client, tokens), {
      header: "api-key",
      value: "the-clients-own-key",
    });
    tokens.close();
  });
});
