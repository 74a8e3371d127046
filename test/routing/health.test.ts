import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEFAULT_RATE_LIMIT_COOLDOWN_MS,
  rateLimitCooldownMs,
  TargetHealth,
} from "../../src/routing/health.ts";

describe("rateLimitCooldownMs", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  it("prefers retry-after-ms, then retry-after seconds or date, then reset hints", () => {
    assert.equal(rateLimitCooldownMs({ "retry-after-ms": "1500", "retry-after": "9" }), 1500);
    assert.equal(rateLimitCooldownMs({ "retry-after": "3" }), 3000);
    assert.equal(
      rateLimitCooldownMs({ "retry-after": new Date(now + 4000).toUTCString() }, now),
      4000,
    );
    assert.equal(rateLimitCooldownMs({ "x-ratelimit-reset-requests": "1m30s" }), 90_000);
    assert.equal(rateLimitCooldownMs({ "x-ratelimit-reset-tokens": "250ms" }), 250);
    assert.equal(rateLimitCooldownMs({}), DEFAULT_RATE_LIMIT_COOLDOWN_MS);
  });
});

describe("TargetHealth", () => {
  it("cools a rate-limited target for as long as Azure asked", () => {
    const health = new TargetHealth();
    health.rateLimited({ "retry-after-ms": "2000" }, 1000);
    assert.ok(health.isCooling(2999));
    assert.ok(!health.isCooling(3000));
  });

  it("backs off longer after each failure in a row, and forgets after a success", () => {
    const health = new TargetHealth();
    health.failed(0);
    assert.equal(health.coolingUntil, 1000);
    health.failed(1000);
    assert.equal(health.coolingUntil, 3000);
    health.failed(3000);
    assert.equal(health.coolingUntil, 7000);
    health.succeeded(5);
    health.failed(10_000);
    assert.equal(health.coolingUntil, 11_000);
  });

  it("keeps an exponentially weighted time to first byte", () => {
    const health = new TargetHealth();
    health.succeeded(100);
    health.succeeded(200);
    assert.equal(health.latencyMs, 130);
  });
});
