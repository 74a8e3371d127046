/**
 * The real @azure/identity credentials against fakes on loopback: managed identity the way App
 * Service provides it (IDENTITY_ENDPOINT + IDENTITY_HEADER) and a fake `az` on PATH.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { EntraAuth } from "../../src/config/entra.ts";
import { EntraTokens } from "../../src/identity/entra-tokens.ts";
import { ProxyError } from "../../src/openai/errors.ts";
import {
  createFakeAzureCli,
  type FakeTokenIssuer,
  fakeJwt,
  startFakeTokenIssuer,
} from "../helpers/fake-identity.ts";

const OPENAI: EntraAuth = {
  credential: "managed-identity",
  scope: "https://cognitiveservices.azure.com/.default",
};

// MSAL keeps managed identity tokens in a process-wide cache until 5 minutes before they expire;
// tokens shorter than that are fetched anew each time, which keeps these tests independent.
const SHORT_TTL = 240;

let issuer: FakeTokenIssuer;
const saved = { ...process.env };
const opened: EntraTokens[] = [];

function tokensFor(...resources: EntraAuth[]): EntraTokens {
  const tokens = new EntraTokens(
    resources.map((entra) => ({ entra })),
    { failureHoldMs: 0 },
  );
  opened.push(tokens);
  return tokens;
}

describe("Entra ID credentials from @azure/identity", () => {
  before(async () => {
    issuer = await startFakeTokenIssuer();
    Object.assign(process.env, issuer.env());
    delete process.env.AZURE_CLIENT_ID;
  });
  afterEach(() => {
    for (const tokens of opened.splice(0)) tokens.close();
    issuer.requests.length = 0;
    issuer.failure = undefined;
    issuer.delayMs = 0;
    issuer.ttlSeconds = SHORT_TTL;
    delete process.env.AZURE_CLIENT_ID;
  });
  after(async () => {
    process.env = saved;
    await issuer.close();
  });

  it("gets a token from App Service's managed identity endpoint for the Azure OpenAI scope", async () => {
    issuer.ttlSeconds = SHORT_TTL;
    const cache = tokensFor(OPENAI).for(OPENAI);
    const token = await cache.token();
    assert.equal(token, issuer.issued.at(-1));
    assert.deepEqual(issuer.requests, [
      { resource: "https://cognitiveservices.azure.com", clientId: null },
    ]);
    assert.equal(await cache.token(), token, "served from the cache");
    assert.equal(issuer.requests.length, 1);
    const status = cache.status();
    assert.equal(status.ready, true);
    assert.ok(status.expiresInSeconds !== null && status.expiresInSeconds > SHORT_TTL - 5);
  });

  it("asks for a user-assigned identity named by AZURE_CLIENT_ID", async () => {
    process.env.AZURE_CLIENT_ID = "11111111-2222-3333-4444-555555555555";
    await tokensFor(OPENAI).for(OPENAI).token();
    assert.equal(issuer.requests[0]?.clientId, "11111111-2222-3333-4444-555555555555");
  });

  it("asks for the ai.azure.com audience when the scope says so", async () => {
    const foundry: EntraAuth = {
      credential: "managed-identity",
      scope: "https://ai.azure.com/.default",
    };
    await tokensFor(foundry).for(foundry).token();
    assert.equal(issuer.requests[0]?.resource, "https://ai.azure.com");
  });

  it("makes one token request for 50 concurrent first callers", async () => {
    issuer.delayMs = 100;
    const cache = tokensFor(OPENAI).for(OPENAI);
    const tokens = await Promise.all(Array.from({ length: 50 }, () => cache.token()));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(issuer.requests.length, 1);
  });

  it("refreshes the token before it expires", async () => {
    issuer.ttlSeconds = 3;
    const cache = tokensFor(OPENAI).for(OPENAI);
    const first = await cache.token();
    await sleep(2_000);
    assert.equal(issuer.requests.length, 2);
    const second = await cache.token();
    assert.notEqual(second, first);
    assert.equal(second, issuer.issued.at(-1));
  });

  it("gets a new token when Azure refused the current one", async () => {
    const cache = tokensFor(OPENAI).for(OPENAI);
    const refused = await cache.token();
    const fresh = await cache.refresh(refused);
    assert.notEqual(fresh, refused);
    assert.equal(fresh, issuer.issued.at(-1));
  });

  it("reports a refusal as upstream_auth_failed with what the identity endpoint said", async () => {
    const cache = tokensFor(OPENAI).for(OPENAI);
    const old = await cache.token();
    issuer.failure = {
      status: 400,
      body: {
        error: "invalid_request",
        error_description: `Identity not found (${fakeJwt("echo")})`,
      },
    };
    await assert.rejects(cache.refresh(old), (error: unknown) => {
      assert.ok(error instanceof ProxyError);
      assert.equal(error.status, 502);
      assert.equal(error.code, "upstream_auth_failed");
      assert.match(error.message, /managed-identity credential: ManagedIdentityCredential/);
      assert.ok(!error.message.includes("eyJ"), error.message);
      assert.ok(!error.message.includes(old));
      return true;
    });
    assert.equal(cache.ready, false);
  });

  it("finds managed identity through the default chain", async () => {
    const viaDefault: EntraAuth = { credential: "default", scope: OPENAI.scope };
    const token = await tokensFor(viaDefault).for(viaDefault).token();
    assert.equal(token, issuer.issued.at(-1));
  });

  it("reports a workload identity without its variables as upstream_auth_failed", async () => {
    const workload: EntraAuth = { credential: "workload-identity", scope: OPENAI.scope };
    await assert.rejects(
      tokensFor(workload).for(workload).token(),
      (error: unknown) =>
        error instanceof ProxyError &&
        error.code === "upstream_auth_failed" &&
        /workload-identity credential: .*AZURE_CLIENT_ID/.test(error.message),
    );
  });

  describe("Azure CLI", () => {
    const cliAuth: EntraAuth = { credential: "cli", scope: OPENAI.scope };
    const cli = createFakeAzureCli();
    before(() => {
      process.env.PATH = `${cli.dir}:${saved.PATH ?? ""}`;
    });

    it("gets the signed-in user's token from az account get-access-token", async () => {
      const issued = fakeJwt("cli-user");
      cli.issue(issued, 3600);
      const cache = tokensFor(cliAuth).for(cliAuth);
      assert.equal(await cache.token(), issued);
      assert.equal(await cache.token(), issued);
      assert.deepEqual(cli.calls(), [
        "account get-access-token --output json --resource https://cognitiveservices.azure.com",
      ]);
      const expiresIn = cache.status().expiresInSeconds ?? 0;
      assert.ok(expiresIn > 3590 && expiresIn <= 3600, String(expiresIn));
    });

    it("says to run az login when nobody is signed in", async () => {
      cli.failNotLoggedIn();
      await assert.rejects(
        tokensFor(cliAuth).for(cliAuth).token(),
        (error: unknown) =>
          error instanceof ProxyError &&
          error.code === "upstream_auth_failed" &&
          /cli credential: .*az login/.test(error.message),
      );
    });
  });
});
