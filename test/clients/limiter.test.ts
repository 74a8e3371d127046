import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { ClientIdentity } from "../../src/clients/authenticate.ts";
import { ClientLimiter, type LimiterLog } from "../../src/clients/limiter.ts";
import type { LimitsStore, UsageCharge } from "../../src/clients/limits-store.ts";
import { MemoryLimitsStore } from "../../src/clients/memory-store.ts";
import type { ClientLimits } from "../../src/config/clients.ts";
import { ProxyError } from "../../src/openai/errors.ts";

const T0 = Date.UTC(2026, 11, 4, 10, 30, 5);

function client(name: string, limits: Partial<ClientLimits>): ClientIdentity {
  return {
    name,
    policy: {
      models: undefined,
      limits: { rpm: undefined, tpm: undefined, tokensPerDay: undefined, ...limits },
    },
  };
}

function recordingLog(): LimiterLog & { warnings: string[]; infos: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { warnings, infos, warn: (_f, m) => warnings.push(m), info: (_f, m) => infos.push(m) };
}

async function refusal(promise: Promise<unknown>): Promise<ProxyError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ProxyError);
    return error;
  }
  assert.fail("expected a refusal");
}

const charge = (client: string, prompt: number, completion: number): UsageCharge => ({
  client,
  model: "gpt-4o",
  deployment: "gpt-4o",
  tokens: { prompt, completion, reasoning: 0, cached: 0 },
});

describe("ClientLimiter with the memory store", () => {
  it("refuses the 6th request of a client at rpm 5 with 429, Retry-After and headers; others go on", async () => {
    let now = T0;
    const limiter = new ClientLimiter({
      store: new MemoryLimitsStore(),
      failClosed: false,
      log: recordingLog(),
      now: () => now,
    });
    const slow = client("team-a", { rpm: 5 });
    for (let i = 0; i < 5; i++) {
      const headers = await limiter.admit(slow);
      assert.equal(headers["x-ratelimit-remaining-requests"], String(4 - i));
    }
    const error = await refusal(limiter.admit(slow));
    assert.equal(error.status, 429);
    assert.equal(error.code, "rate_limit_exceeded");
    assert.equal(error.type, "requests");
    // 55 s until the minute turns, then 12 s until this minute's 5 weigh less than 4.
    assert.equal(error.headers["retry-after"], "67");
    assert.equal(error.headers["x-ratelimit-limit-requests"], "5");
    assert.equal(error.headers["x-ratelimit-remaining-requests"], "0");
    assert.deepEqual(await limiter.admit(client("team-b", { rpm: 5 })), {
      "x-ratelimit-limit-requests": "5",
      "x-ratelimit-remaining-requests": "4",
      "x-ratelimit-reset-requests": "55s",
    });
    now += 2 * 60_000;
    assert.equal((await limiter.admit(slow))["x-ratelimit-remaining-requests"], "4");
  });

  it("charges tpm and the daily budget with real usage, then refuses", async () => {
    let now = T0;
    const limiter = new ClientLimiter({
      store: new MemoryLimitsStore(),
      failClosed: false,
      log: recordingLog(),
      now: () => now,
    });
    const team = client("team-a", { tpm: 100, tokensPerDay: 150 });
    await limiter.admit(team);
    limiter.charge(charge("team-a", 60, 40));
    await sleep(1);
    const overTpm = await refusal(limiter.admit(team));
    assert.equal(overTpm.code, "rate_limit_exceeded");
    assert.equal(overTpm.type, "tokens");
    assert.equal(overTpm.headers["x-ratelimit-remaining-tokens"], "0");
    now += 2 * 60_000;
    assert.equal((await limiter.admit(team))["x-ratelimit-remaining-tokens"], "100");
    limiter.charge(charge("team-a", 50, 0));
    await sleep(1);
    now += 2 * 60_000;
    const overBudget = await refusal(limiter.admit(team));
    assert.equal(overBudget.code, "insufficient_quota");
    assert.equal(overBudget.type, "insufficient_quota");
  });

  it("reports usage per client, model and deployment for today and this minute", async () => {
    const limiter = new ClientLimiter({
      store: new MemoryLimitsStore(),
      failClosed: false,
      log: recordingLog(),
      now: () => T0,
    });
    limiter.charge(charge("team-a", 10, 5));
    limiter.charge(charge("team-a", 1, 1));
    limiter.charge({
      client: "anonymous",
      model: "dall-e-3",
      deployment: "dalle",
      tokens: undefined,
    });
    await sleep(1);
    const report = await limiter.usage();
    assert.equal(report.today.date, "2026-12-04");
    assert.equal(report.minute.start, "2026-12-04T10:30:00.000Z");
    assert.deepEqual(report.today.rows, [
      {
        client: "anonymous",
        model: "dall-e-3",
        deployment: "dalle",
        requests: 1,
        prompt: 0,
        completion: 0,
        reasoning: 0,
        cached: 0,
      },
      {
        client: "team-a",
        model: "gpt-4o",
        deployment: "gpt-4o",
        requests: 2,
        prompt: 11,
        completion: 6,
        reasoning: 0,
        cached: 0,
      },
    ]);
    assert.deepEqual(report.minute.rows, report.today.rows);
  });

  it("asks no store for a client without limits", async () => {
    const store = new MemoryLimitsStore();
    store.admit = () => assert.fail("no store call expected");
    const limiter = new ClientLimiter({ store, failClosed: true, log: recordingLog() });
    assert.deepEqual(await limiter.admit(client("anonymous", {})), {});
  });
});

/** A store that stops answering (or fails) on demand. */
class FlakyStore extends MemoryLimitsStore {
  override readonly remote: boolean = true;
  mode: "up" | "hang" | "down" = "up";
  charges: UsageCharge[] = [];
  private gate<T>(work: () => Promise<T>): Promise<T> {
    if (this.mode === "hang") return new Promise(() => {});
    if (this.mode === "down") return Promise.reject(new Error("connect ECONNREFUSED"));
    return work();
  }
  override admit(...args: Parameters<LimitsStore["admit"]>) {
    return this.gate(() => super.admit(...args));
  }
  override charge(c: UsageCharge, now: number) {
    return this.gate(() => {
      this.charges.push(c);
      return super.charge(c, now);
    });
  }
  override ping() {
    return this.gate(() => super.ping());
  }
}

describe("ClientLimiter when the store is slow or down", () => {
  it("holds no request more than 50 ms, goes on without limits and warns once per outage", async () => {
    const store = new FlakyStore();
    const log = recordingLog();
    const limiter = new ClientLimiter({ store, failClosed: false, log, probeMs: 20 });
    const team = client("team-a", { rpm: 1 });
    store.mode = "hang";
    const started = performance.now();
    assert.deepEqual(await limiter.admit(team), {});
    assert.ok(performance.now() - started < 80, "answered after the 50 ms wait");
    for (let i = 0; i < 20; i++) assert.deepEqual(await limiter.admit(team), {});
    limiter.charge(charge("team-a", 3, 4));
    limiter.charge(charge("team-a", 1, 1));
    assert.equal(log.warnings.length, 1);
    assert.match(log.warnings[0] ?? "", /not enforced/);

    store.mode = "up";
    await sleep(100);
    assert.equal(log.infos.length, 1, "one message when it is back");
    assert.deepEqual(
      store.charges.map((c) => [c.requests, c.tokens?.prompt, c.tokens?.completion]),
      [[2, 4, 5]],
      "held charges caught up, summed",
    );
    await limiter.admit(team);
    assert.equal((await refusal(limiter.admit(team))).status, 429, "limits hold again");
    await limiter.close();
  });

  it("answers 503 to clients with limits while the store is down, when fail-closed", async () => {
    const store = new FlakyStore();
    const log = recordingLog();
    const limiter = new ClientLimiter({ store, failClosed: true, log, probeMs: 20 });
    store.mode = "down";
    const error = await refusal(limiter.admit(client("team-a", { rpm: 10 })));
    assert.equal(error.status, 503);
    assert.equal(error.code, "limits_unavailable");
    assert.deepEqual(
      await limiter.admit(client("anonymous", {})),
      {},
      "clients without limits go on",
    );
    assert.equal(log.warnings.length, 1);
    assert.match(log.warnings[0] ?? "", /503/);
    await limiter.close();
  });
});
