import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { ClientIdentity } from "../../src/clients/authenticate.ts";
import { ClientLimiter, type LimiterLog } from "../../src/clients/limiter.ts";
import { RedisLimitsStore } from "../../src/clients/redis-store.ts";
import { ProxyError } from "../../src/openai/errors.ts";
import { type RedisServer, redisMissing, startRedis } from "../helpers/redis.ts";

const T0 = Date.UTC(2026, 11, 4, 10, 30, 5);
const teamA: ClientIdentity = {
  name: "team-a",
  policy: { models: undefined, limits: { rpm: 5, tpm: 1000, tokensPerDay: undefined } },
};

function recordingLog(): LimiterLog & { warnings: string[]; infos: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { warnings, infos, warn: (_f, m) => warnings.push(m), info: (_f, m) => infos.push(m) };
}

async function status(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    assert.ok(error instanceof ProxyError);
    return error.status;
  }
}

describe("RedisLimitsStore on a real Redis", { skip: redisMissing }, () => {
  let redis: RedisServer;
  let prefix = 0;
  let opened: RedisLimitsStore[] = [];
  const open = async () => {
    const store = await RedisLimitsStore.connect(redis.url, { prefix: `t${prefix}:` });
    opened.push(store);
    return store;
  };
  // Stores are closed even when an assertion fails: ioredis would keep reconnecting otherwise.
  afterEach(async () => {
    for (const store of opened) await store.close();
    opened = [];
  });
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.close();
  });

  it("two stores sharing one Redis enforce one limit", async () => {
    prefix++;
    const [one, two] = [await open(), await open()];
    const log = recordingLog();
    const a = new ClientLimiter({ store: one, failClosed: false, log, now: () => T0 });
    const b = new ClientLimiter({ store: two, failClosed: false, log, now: () => T0 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(await status(a.admit(teamA)), await status(b.admit(teamA)));
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    assert.deepEqual(log.warnings, []);
    await a.close();
    await b.close();
  });

  it("charges tokens atomically from many replicas and reports usage", async () => {
    prefix++;
    const stores = [await open(), await open(), await open()];
    const charges = stores.flatMap((store) =>
      Array.from({ length: 20 }, () =>
        store.charge(
          {
            client: "team-a",
            model: "gpt-4o",
            deployment: "gpt-4o-eu",
            tokens: { prompt: 3, completion: 2, reasoning: 1, cached: 1 },
          },
          T0,
        ),
      ),
    );
    await Promise.all(charges);
    const counts = await stores[0]?.admit("team-a", teamA.policy.limits, T0);
    assert.deepEqual(counts?.tokens, [0, 300]);
    assert.equal(counts?.dayTokens, 300);
    const report = await stores[1]?.usage(T0);
    assert.deepEqual(report?.today, {
      date: "2026-12-04",
      rows: [
        {
          client: "team-a",
          model: "gpt-4o",
          deployment: "gpt-4o-eu",
          requests: 60,
          prompt: 180,
          completion: 120,
          reasoning: 60,
          cached: 60,
        },
      ],
    });
    assert.deepEqual(report?.minute.rows, report?.today.rows);
    for (const store of stores) await store.close();
  });

  it("sets an expiry on every key it writes", async () => {
    prefix++;
    const store = await open();
    await store.admit("team-a", teamA.policy.limits, T0);
    await store.charge({ client: "team-a", model: "m", deployment: "d", tokens: undefined }, T0);
    const { Redis } = await import("ioredis");
    const client = new Redis(redis.url);
    const keys = await client.keys(`t${prefix}:*`);
    assert.ok(keys.length >= 3, `keys: ${keys.join(", ")}`);
    for (const key of keys) assert.ok((await client.ttl(key)) > 0, `${key} expires`);
    client.disconnect();
    await store.close();
  });

  it("keeps traffic flowing when Redis stops mid-run, warns once, and catches up when it is back", async () => {
    prefix++;
    const store = await open();
    const log = recordingLog();
    let now = T0;
    const limiter = new ClientLimiter({
      store,
      failClosed: false,
      log,
      probeMs: 50,
      now: () => now,
    });
    const charge = () =>
      limiter.charge({
        client: "team-a",
        model: "gpt-4o",
        deployment: "d",
        tokens: { prompt: 10, completion: 0, reasoning: 0, cached: 0 },
      });
    assert.equal(await status(limiter.admit(teamA)), 200);
    charge();
    // That charge reaches Redis before the stop (which loses it: nothing is persisted).
    for (let i = 0; i < 100 && (await limiter.usage()).today.rows.length === 0; i++) {
      await sleep(10);
    }

    await redis.stop();
    const started = performance.now();
    const during: number[] = [];
    for (let i = 0; i < 20; i++) {
      during.push(await status(limiter.admit(teamA)));
      charge();
    }
    assert.ok(performance.now() - started < 20 * 60, "no request held more than 50 ms");
    assert.deepEqual(during, Array(20).fill(200), "fail-open: no limits while Redis is away");
    assert.equal(log.warnings.length, 1, log.warnings.join("\n"));

    await redis.start();
    for (let i = 0; i < 100 && log.infos.length === 0; i++) await sleep(50);
    assert.equal(log.infos.length, 1, "one message when Redis is back");
    await sleep(50);
    // Redis kept nothing (no persistence): what it holds now is exactly what was held meanwhile.
    const report = await limiter.usage();
    assert.deepEqual(
      report.today.rows.map((r) => [r.requests, r.prompt]),
      [[20, 200]],
    );
    now += 1000;
    assert.equal(await status(limiter.admit(teamA)), 200, "limits enforced again");
    assert.equal(log.warnings.length, 1);
    await limiter.close();
  });
});
