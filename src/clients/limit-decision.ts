import type { ClientLimits } from "../config/clients.ts";

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** A client's counters as a store holds them, read before this request is counted. */
export interface WindowCounts {
  /** Requests admitted in the previous and the current clock minute. */
  readonly requests: readonly [previous: number, current: number];
  /** Tokens charged in the previous and the current clock minute. */
  readonly tokens: readonly [previous: number, current: number];
  /** Tokens charged this UTC day. */
  readonly dayTokens: number;
}

/** Which limit refused a request. */
export type Refusal = "requests" | "tokens" | "budget";

export interface LimitVerdict {
  readonly refusal: Refusal | undefined;
  /** How long until a refused request would be admitted. */
  readonly retryAfterMs: number;
  /** OpenAI's x-ratelimit-* headers for the configured limits, for every answer. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The clock minute (a number) and UTC day (YYYY-MM-DD) that store keys are named by. */
export function minuteOf(now: number): number {
  return Math.floor(now / MINUTE_MS);
}

export function dayOf(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

/**
 * The weight of the previous minute in the sliding window: a minute-long window sliding over two
 * fixed buckets (as Cloudflare counts), so a burst across a minute boundary cannot double the
 * limit. Stores pass it to their atomic update so both sides count alike.
 */
export function previousWeight(now: number): number {
  return 1 - (now % MINUTE_MS) / MINUTE_MS;
}

/** The window's count: rounded up, so the estimate errs towards the limit, never past it. */
export function windowCount(
  [previous, current]: readonly [number, number],
  weight: number,
): number {
  return current + Math.ceil(previous * weight);
}

/** Whether a request is admitted: the rule the Redis script repeats in Lua. */
export function admits(counts: WindowCounts, limits: ClientLimits, now: number): boolean {
  return decide(counts, limits, now).refusal === undefined;
}

/**
 * Decides one request from the counters read before it, and computes the headers it answers
 * with. `tpm` and the daily budget compare the tokens already spent (usage is only known after
 * the answer); `rpm` counts this request too.
 */
export function decide(counts: WindowCounts, limits: ClientLimits, now: number): LimitVerdict {
  const weight = previousWeight(now);
  const headers: Record<string, string> = {};
  const toMinuteEnd = MINUTE_MS - (now % MINUTE_MS);
  let refusal: Refusal | undefined;
  let retryAfterMs = 0;

  const { rpm, tpm, tokensPerDay } = limits;
  if (tokensPerDay !== undefined && counts.dayTokens >= tokensPerDay) {
    refusal = "budget";
    retryAfterMs = DAY_MS - (now % DAY_MS);
  }
  if (rpm !== undefined) {
    const used = windowCount(counts.requests, weight);
    const refused = used >= rpm;
    if (refused && refusal === undefined) {
      refusal = "requests";
      retryAfterMs = waitForRoom(counts.requests, rpm, now);
    }
    headers["x-ratelimit-limit-requests"] = String(rpm);
    headers["x-ratelimit-remaining-requests"] = String(Math.max(0, rpm - used - (refused ? 0 : 1)));
    headers["x-ratelimit-reset-requests"] = formatDuration(
      refused ? waitForRoom(counts.requests, rpm, now) : toMinuteEnd,
    );
  }
  if (tpm !== undefined) {
    const used = windowCount(counts.tokens, weight);
    const refused = used >= tpm;
    if (refused && refusal === undefined) {
      refusal = "tokens";
      retryAfterMs = waitForRoom(counts.tokens, tpm, now);
    }
    headers["x-ratelimit-limit-tokens"] = String(tpm);
    headers["x-ratelimit-remaining-tokens"] = String(Math.max(0, tpm - used));
    headers["x-ratelimit-reset-tokens"] = formatDuration(
      refused ? waitForRoom(counts.tokens, tpm, now) : toMinuteEnd,
    );
  }
  return { refusal, retryAfterMs, headers };
}

/**
 * Milliseconds until the window's count drops below `limit` with nothing new counted: within
 * this minute as the previous minute's share fades, or else into the next minute, where this
 * minute becomes the fading one.
 */
export function waitForRoom(
  [previous, current]: readonly [number, number],
  limit: number,
  now: number,
): number {
  const elapsed = (now % MINUTE_MS) / MINUTE_MS;
  const room = limit - 1 - current;
  if (room >= 0) {
    if (previous <= room) return 0;
    return Math.ceil((1 - room / previous - elapsed) * MINUTE_MS);
  }
  const nextMinute = MINUTE_MS - (now % MINUTE_MS);
  return nextMinute + Math.ceil(Math.max(0, 1 - (limit - 1) / current) * MINUTE_MS);
}

/** OpenAI's duration format in x-ratelimit-reset-*: `20ms`, `1s`, `6m0s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const seconds = Math.ceil(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
