import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProxyError } from "../../src/openai/errors.ts";
import {
  type FailedAttempt,
  failoverReason,
  learnFromFailure,
  tryAgain,
} from "../../src/proxy/try-again.ts";
import { TargetHealth } from "../../src/routing/health.ts";

const azure = (status: number, headers = {}): FailedAttempt => ({
  kind: "azure-error",
  status,
  headers,
  body: Buffer.alloc(0),
  firstByteMs: 1,
});
const failed = (retryable: boolean): FailedAttempt => ({
  kind: "failed",
  error: new ProxyError(502, "down", { code: "upstream_unreachable" }),
  retryable,
});

describe("tryAgain", () => {
  it("fails over on 408, 429 and 5xx, and on connection failures and timeouts", () => {
    for (const status of [408, 429, 500, 502, 503, 504])
      assert.equal(tryAgain(azure(status), 1, 3), true);
    assert.equal(tryAgain(failed(true), 1, 3), true);
  });

  it("does not fail over on errors about the request itself", () => {
    for (const status of [400, 401, 403, 404, 413, 422])
      assert.equal(tryAgain(azure(status), 1, 3), false);
    assert.equal(tryAgain(failed(false), 1, 3), false);
  });

  it("stops when the attempts are used up", () => {
    assert.equal(tryAgain(azure(503), 3, 3), false);
  });

  it("takes the statuses as data", () => {
    assert.equal(tryAgain(azure(400), 1, 3, new Set([400])), true);
    assert.equal(tryAgain(azure(503), 1, 3, new Set([400])), false);
  });

  it("names why an attempt failed over, for the log", () => {
    assert.equal(failoverReason(azure(429)), "azure 429");
    assert.equal(failoverReason(azure(400)), undefined);
    assert.equal(failoverReason(failed(true)), "upstream_unreachable");
    assert.equal(failoverReason(failed(false)), undefined);
  });
});

describe("learnFromFailure", () => {
  it("cools a rate-limited target as long as Azure asked", () => {
    const health = new TargetHealth();
    learnFromFailure(health, azure(429, { "retry-after-ms": "1500" }), 1000);
    assert.equal(health.coolingUntil, 2500);
  });

  it("backs off after a 5xx or a connection failure", () => {
    const health = new TargetHealth();
    learnFromFailure(health, azure(503), 0);
    assert.equal(health.failures, 1);
    learnFromFailure(health, failed(true), 0);
    assert.equal(health.failures, 2);
    assert.ok(health.coolingUntil > 0);
  });

  it("leaves a target alone for errors about the request", () => {
    const health = new TargetHealth();
    learnFromFailure(health, azure(400), 0);
    learnFromFailure(health, failed(false), 0);
    assert.equal(health.failures, 0);
    assert.equal(health.coolingUntil, 0);
  });
});
