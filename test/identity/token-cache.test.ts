import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { AccessToken } from "@azure/identity";
import type { TokenSource } from "../../src/identity/entra-credential.ts";
import { EntraTokenCache } from "../../src/identity/token-cache.ts";
import { ProxyError } from "../../src/openai/errors.ts";
import { fakeJwt } from "../helpers/fake-identity.ts";

/** A credential that issues JWT-looking tokens valid for `ttlMs`, or fails with `failWith`. */
function fakeSource(ttlMs = 3_600_000) {
  const state = {
    calls: 0,
    ttlMs,
    delayMs: 5,
    failWith: undefined as string | undefined,
    issued: [] as string[],
  };
  const source: TokenSource = {
    async getToken(): Promise<AccessToken> {
      state.calls += 1;
      await sleep(state.delayMs);
      if (state.failWith !== undefined) throw new Error(state.failWith);
      const token = fakeJwt("unit");
      state.issued.push(token);
      return { token, expiresOnTimestamp: Date.now() + state.ttlMs, tokenType: "Bearer" };
    },
  };
  return { state, source };
}

function cacheFor(source: TokenSource, options: { retryMs?: number; failureHoldMs?: number } = {}) {
  return new EntraTokenCache({
    credential: "managed-identity",
    scope: "https://cognitiveservices.azure.com/.default",
    source: async () => source,
    ...options,
  });
}

describe("EntraTokenCache", () => {
  it("fetches a token once and serves it from the cache", async () => {
    const { state, source } = fakeSource();
    const cache = cacheFor(source);
    const first = await cache.token();
    const second = await cache.token();
    assert.equal(first, second);
    assert.equal(first, state.issued[0]);
    assert.equal(state.calls, 1);
    cache.close();
  });

  it("gives 50 concurrent first callers one fetch", async () => {
    const { state, source } = fakeSource();
    state.delayMs = 50;
    const cache = cacheFor(source);
    const tokens = await Promise.all(Array.from({ length: 50 }, () => cache.token()));
    assert.equal(state.calls, 1);
    assert.equal(new Set(tokens).size, 1);
    cache.close();
  });

  it("refreshes in the background before the token expires", async () => {
    const { state, source } = fakeSource(2_000);
    const cache = cacheFor(source);
    const first = await cache.token();
    await sleep(1_300);
    assert.equal(state.calls, 2, "a second token was fetched without any caller asking");
    const startedAt = Date.now();
    const second = await cache.token();
    assert.notEqual(second, first);
    assert.equal(second, state.issued[1]);
    assert.ok(Date.now() - startedAt < 5, "the refreshed token is served from the cache");
    cache.close();
  });

  it("replaces a token Azure refused with one shared fetch", async () => {
    const { state, source } = fakeSource();
    const cache = cacheFor(source);
    const refused = await cache.token();
    const replacements = await Promise.all(
      Array.from({ length: 10 }, () => cache.refresh(refused)),
    );
    assert.equal(state.calls, 2);
    assert.equal(new Set(replacements).size, 1);
    assert.notEqual(replacements[0], refused);
    // A caller that saw the old token refused later gets the replacement without a fetch.
    assert.equal(await cache.refresh(refused), replacements[0]);
    assert.equal(state.calls, 2);
    cache.close();
  });

  it("fails with upstream_auth_failed naming the credential and what it said, never a token", async () => {
    const { state, source } = fakeSource();
    const cache = cacheFor(source, { failureHoldMs: 0 });
    const old = await cache.token();
    const leaked = fakeJwt("leak");
    state.failWith = `ManagedIdentityCredential: Authentication failed. Message: identity not found (echo ${leaked} ${old})`;
    await assert.rejects(cache.refresh(old), (error: unknown) => {
      assert.ok(error instanceof ProxyError);
      assert.equal(error.status, 502);
      assert.equal(error.code, "upstream_auth_failed");
      assert.equal(error.type, "server_error");
      assert.match(error.message, /managed-identity credential/);
      assert.match(error.message, /identity not found/);
      assert.ok(!error.message.includes(leaked));
      assert.ok(!error.message.includes(old));
      assert.ok(!error.message.includes("eyJ"));
      return true;
    });
    const status = cache.status();
    assert.equal(status.ready, false);
    assert.match(status.lastError ?? "", /identity not found/);
    assert.ok(!JSON.stringify(status).includes("eyJ"));
    cache.close();
  });

  it("repeats a fresh failure to callers instead of asking the credential again at once", async () => {
    const { state, source } = fakeSource();
    state.failWith = "no identity";
    const cache = cacheFor(source, { failureHoldMs: 60_000 });
    await assert.rejects(cache.token(), /no identity/);
    await assert.rejects(cache.token(), /no identity/);
    assert.equal(state.calls, 1);
    cache.close();
  });

  it("keeps serving the current token when a background refresh fails", async () => {
    const { state, source } = fakeSource(2_000);
    const cache = cacheFor(source, { retryMs: 60_000 });
    const first = await cache.token();
    state.failWith = "IMDS is down";
    await sleep(1_200);
    assert.equal(state.calls, 2);
    assert.equal(await cache.token(), first);
    assert.equal(cache.ready, true);
    assert.match(cache.status().lastError ?? "", /IMDS is down/);
    cache.close();
  });

  it("is not ready until a token is had, and keeps trying in the background", async () => {
    const { state, source } = fakeSource();
    state.failWith = "not yet";
    const cache = cacheFor(source, { retryMs: 100, failureHoldMs: 0 });
    assert.equal(cache.ready, false);
    assert.deepEqual(cache.status().expiresInSeconds, null);
    cache.start();
    await sleep(50);
    assert.equal(cache.ready, false);
    state.failWith = undefined;
    await sleep(250);
    assert.equal(cache.ready, true);
    const status = cache.status();
    assert.equal(status.auth, "entra");
    assert.equal(status.lastError, null);
    assert.ok(status.expiresInSeconds !== null && status.expiresInSeconds > 3500);
    assert.ok(!JSON.stringify(status).includes(state.issued[0] ?? "?"));
    cache.close();
  });

  it("fails a credential that does not answer in time", async () => {
    const { state, source } = fakeSource();
    state.delayMs = 1_000;
    const cache = new EntraTokenCache({
      credential: "cli",
      scope: "https://cognitiveservices.azure.com/.default",
      source: async () => source,
      fetchTimeoutMs: 50,
    });
    await assert.rejects(cache.token(), /cli credential: no answer within 50 ms/);
    cache.close();
  });
});
