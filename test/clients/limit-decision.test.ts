import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decide, formatDuration, waitForRoom } from "../../src/clients/limit-decision.ts";
import type { ClientLimits } from "../../src/config/clients.ts";

const limits = (l: Partial<ClientLimits>): ClientLimits => ({
  rpm: undefined,
  tpm: undefined,
  tokensPerDay: undefined,
  ...l,
});
/** 15 s into a minute. */
const T = Date.UTC(2026, 11, 4, 10, 30, 15);

describe("decide", () => {
  it("admits the 5th request of rpm 5 and refuses the 6th, with OpenAI's headers", () => {
    const fifth = decide({ requests: [0, 4], tokens: [0, 0], dayTokens: 0 }, limits({ rpm: 5 }), T);
    assert.equal(fifth.refusal, undefined);
    assert.deepEqual(fifth.headers, {
      "x-ratelimit-limit-requests": "5",
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "45s",
    });
    const sixth = decide({ requests: [0, 5], tokens: [0, 0], dayTokens: 0 }, limits({ rpm: 5 }), T);
    assert.equal(sixth.refusal, "requests");
    assert.equal(sixth.headers["x-ratelimit-remaining-requests"], "0");
    assert.ok(sixth.retryAfterMs > 45_000, "room comes back after the minute turns");
  });

  it("counts the previous minute's share so a burst across the boundary cannot double rpm", () => {
    // 15 s in, 75 % of the previous minute's 10 requests still count.
    const verdict = decide(
      { requests: [10, 0], tokens: [0, 0], dayTokens: 0 },
      limits({ rpm: 8 }),
      T,
    );
    assert.equal(verdict.refusal, "requests");
    assert.equal(
      Math.round(verdict.retryAfterMs / 1000),
      3,
      "one more fits when 70 % remain, at 18 s",
    );
  });

  it("compares tokens already spent with tpm, and reports the tokens left", () => {
    const under = decide(
      { requests: [0, 0], tokens: [0, 900], dayTokens: 900 },
      limits({ tpm: 1000 }),
      T,
    );
    assert.equal(under.refusal, undefined);
    assert.equal(under.headers["x-ratelimit-remaining-tokens"], "100");
    assert.equal(under.headers["x-ratelimit-limit-tokens"], "1000");
    const over = decide(
      { requests: [0, 0], tokens: [0, 1000], dayTokens: 1000 },
      limits({ tpm: 1000 }),
      T,
    );
    assert.equal(over.refusal, "tokens");
  });

  it("refuses for the daily budget until midnight UTC", () => {
    const verdict = decide(
      { requests: [0, 0], tokens: [0, 0], dayTokens: 5000 },
      limits({ tokensPerDay: 5000, rpm: 100 }),
      T,
    );
    assert.equal(verdict.refusal, "budget");
    assert.equal(verdict.retryAfterMs, Date.UTC(2026, 11, 5) - T);
  });

  it("sends no headers for a client without rpm or tpm", () => {
    assert.deepEqual(
      decide({ requests: [9, 9], tokens: [9, 9], dayTokens: 9 }, limits({}), T).headers,
      {},
    );
  });
});

describe("waitForRoom and formatDuration", () => {
  it("is zero when there is room", () => {
    assert.equal(waitForRoom([0, 2], 5, T), 0);
  });

  it("writes durations as OpenAI does", () => {
    assert.equal(formatDuration(20), "20ms");
    assert.equal(formatDuration(1000), "1s");
    assert.equal(formatDuration(360_000), "6m0s");
    assert.equal(formatDuration(3_723_000), "1h2m3s");
  });
});
