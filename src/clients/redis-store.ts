import { createHash } from "node:crypto";
import type { Redis, RedisOptions } from "ioredis";
import type { ClientLimits } from "../config/clients.ts";
import { chargedTokens } from "./charged-tokens.ts";
import { dayOf, minuteOf, previousWeight, type WindowCounts } from "./limit-decision.ts";
import {
  type LimitsStore,
  minuteStart,
  rowFromKey,
  rowKey,
  sortRows,
  USAGE_FIELDS,
  type UsageCharge,
  type UsageField,
  type UsageReport,
  type UsageRow,
  usageIncrements,
} from "./limits-store.ts";

/** A minute window is read while it is current and the minute after. */
const MINUTE_TTL_S = 150;
/** A day's counters outlive the UTC day by a little, for clocks a bit apart. */
const DAY_TTL_S = 26 * 3600;

/**
 * The admission rule of limit-decision.ts (`decide`), in Lua so that reading the counters and
 * counting the request are one step for every replica. Same arithmetic (doubles, ceil), same
 * weight passed in, so both sides agree.
 */
const ADMIT = `
local pr = tonumber(redis.call('HGET', KEYS[1], 'r') or '0')
local pt = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
local cr = tonumber(redis.call('HGET', KEYS[2], 'r') or '0')
local ct = tonumber(redis.call('HGET', KEYS[2], 't') or '0')
local d = tonumber(redis.call('GET', KEYS[3]) or '0')
local w = tonumber(ARGV[1])
local rpm, tpm, budget = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local ok = true
if budget > 0 and d >= budget then ok = false end
if rpm > 0 and cr + math.ceil(pr * w) >= rpm then ok = false end
if tpm > 0 and ct + math.ceil(pt * w) >= tpm then ok = false end
if ok then
  redis.call('HINCRBY', KEYS[2], 'r', 1)
  redis.call('EXPIRE', KEYS[2], ARGV[5])
end
return {pr, pt, cr, ct, d}
`;

/** Adds one charge (or several, after an outage) to the windows and the usage report. */
const CHARGE = `
local tokens = tonumber(ARGV[1])
if tokens > 0 then
  redis.call('HINCRBY', KEYS[1], 't', tokens)
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  redis.call('INCRBY', KEYS[2], tokens)
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
local fields = {'requests', 'prompt', 'completion', 'reasoning', 'cached'}
for i, f in ipairs(fields) do
  local n = tonumber(ARGV[4 + i])
  if n ~= 0 then
    redis.call('HINCRBY', KEYS[3], ARGV[4] .. '\\31' .. f, n)
    redis.call('HINCRBY', KEYS[4], ARGV[4] .. '\\31' .. f, n)
  end
end
redis.call('EXPIRE', KEYS[3], ARGV[3])
redis.call('EXPIRE', KEYS[4], ARGV[2])
return 1
`;

export interface RedisStoreOptions {
  /** Prefix of every key, so several proxies (or tests) can share one Redis. */
  readonly prefix?: string;
  /** How long start-up waits for the first connection before going on (fail-open or closed). */
  readonly connectWaitMs?: number;
}

/**
 * Client counters in Redis, shared by every replica and worker: one Lua script per step, every key
 * with an expiry so nothing needs cleaning. ioredis is loaded only here, only when
 * AZURE_OPENAI_PROXY_REDIS_URL is set. Commands fail at once while disconnected (no offline
 * queue): the limiter decides what a failure means.
 */
export class RedisLimitsStore implements LimitsStore {
  readonly remote: boolean = true;
  private readonly redis: Redis;
  private readonly prefix: string;

  private constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  static async connect(url: string, options: RedisStoreOptions = {}): Promise<RedisLimitsStore> {
    const { Redis } = await import("ioredis");
    const settings: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      commandTimeout: 2000,
      // Keep trying, at most once a second, so the store comes back by itself.
      retryStrategy: (times) => Math.min(times * 100, 1000),
    };
    const redis = new Redis(url, settings);
    // Outages are reported by the limiter, once each; ioredis would otherwise print every error.
    redis.on("error", () => {});
    const store = new RedisLimitsStore(redis, options.prefix ?? "aop:");
    const wait = options.connectWaitMs ?? 2000;
    // Loading the scripts now spares the first requests a NOSCRIPT round trip within their 50 ms.
    const ready = redis
      .connect()
      .then(() => Promise.all([ADMIT, CHARGE].map((script) => redis.script("LOAD", script))))
      .catch(() => {});
    await Promise.race([ready, new Promise((resolve) => setTimeout(resolve, wait).unref())]);
    return store;
  }

  async admit(client: string, limits: ClientLimits, now: number): Promise<WindowCounts> {
    const minute = minuteOf(now);
    const reply = (await this.run(
      ADMIT,
      [
        this.minuteKey(client, minute - 1),
        this.minuteKey(client, minute),
        this.dayKey(client, dayOf(now)),
      ],
      [
        String(previousWeight(now)),
        String(limits.rpm ?? 0),
        String(limits.tpm ?? 0),
        String(limits.tokensPerDay ?? 0),
        String(MINUTE_TTL_S),
      ],
    )) as number[];
    const [pr = 0, pt = 0, cr = 0, ct = 0, d = 0] = reply.map(Number);
    return { requests: [pr, cr], tokens: [pt, ct], dayTokens: d };
  }

  async charge(charge: UsageCharge, now: number): Promise<void> {
    const minute = minuteOf(now);
    const day = dayOf(now);
    const increments = usageIncrements(charge);
    await this.run(
      CHARGE,
      [
        this.minuteKey(charge.client, minute),
        this.dayKey(charge.client, day),
        `${this.prefix}usage:d:${day}`,
        `${this.prefix}usage:m:${minute}`,
      ],
      [
        String(charge.tokens === undefined ? 0 : chargedTokens(charge.tokens)),
        String(MINUTE_TTL_S),
        String(DAY_TTL_S),
        rowKey(charge.client, charge.model, charge.deployment),
        ...USAGE_FIELDS.map((field) => String(increments[field])),
      ],
    );
  }

  async usage(now: number): Promise<UsageReport> {
    const minute = minuteOf(now);
    const day = dayOf(now);
    const [today, thisMinute] = await Promise.all([
      this.redis.hgetall(`${this.prefix}usage:d:${day}`),
      this.redis.hgetall(`${this.prefix}usage:m:${minute}`),
    ]);
    return {
      today: { date: day, rows: rowsOf(today) },
      minute: { start: minuteStart(minute), rows: rowsOf(thisMinute) },
    };
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  /** Client names are hash tags, so one client's keys share a Redis Cluster slot. */
  private minuteKey(client: string, minute: number): string {
    return `${this.prefix}c:{${client}}:m:${minute}`;
  }

  private dayKey(client: string, day: string): string {
    return `${this.prefix}c:{${client}}:d:${day}`;
  }

  /** EVALSHA, loading the script once when Redis does not know it yet. */
  private async run(script: string, keys: string[], args: string[]): Promise<unknown> {
    const sha = SHAS.get(script) ?? sha1(script);
    try {
      return await this.redis.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error).message).includes("NOSCRIPT")) throw error;
      return await this.redis.eval(script, keys.length, ...keys, ...args);
    }
  }
}

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
const SHAS = new Map([ADMIT, CHARGE].map((script) => [script, sha1(script)]));

function rowsOf(hash: Record<string, string>): UsageRow[] {
  const rows = new Map<string, Partial<Record<UsageField, number>>>();
  for (const [field, value] of Object.entries(hash)) {
    const cut = field.lastIndexOf("\u001f");
    const key = field.slice(0, cut);
    const name = field.slice(cut + 1) as UsageField;
    const row = rows.get(key) ?? {};
    row[name] = Number(value);
    rows.set(key, row);
  }
  return sortRows([...rows].map(([key, counts]) => rowFromKey(key, counts)));
}
