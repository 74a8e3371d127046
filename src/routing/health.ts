import type { IncomingHttpHeaders } from "node:http";

/**
 * Azure statuses that say "this target, not this request": another target may succeed, so the
 * request fails over (connection failures and timeouts do too). Data, as undici's retry handler
 * keeps its `statusCodes`: the loop that sequences attempts holds no literal.
 */
export const FAILOVER_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Cooldown after a 429 that names no wait. */
export const DEFAULT_RATE_LIMIT_COOLDOWN_MS = 10_000;
/** First cooldown after a failure; doubles with each failure in a row, up to the maximum. */
export const FAILURE_BACKOFF_BASE_MS = 1_000;
export const FAILURE_BACKOFF_MAX_MS = 60_000;

/**
 * Passive health of one target (resource + deployment): it learns only from real requests.
 * A 429 cools the target for as long as Azure asked; 5xx answers, connection errors and
 * timeouts cool it with exponential backoff; a success clears the failure count.
 * The state outlives configuration reloads, keyed by endpoint and deployment.
 */
export class TargetHealth {
  /** Epoch ms until which the target is skipped. */
  coolingUntil = 0;
  /** Failures in a row, for the backoff. */
  failures = 0;
  /** Requests in flight, for least-busy. */
  inFlight = 0;
  /** Exponentially weighted time to first byte in ms, for latency; undefined until measured. */
  latencyMs: number | undefined;

  isCooling(now: number): boolean {
    return this.coolingUntil > now;
  }

  /** Azure answered 429: wait as long as it said. */
  rateLimited(headers: IncomingHttpHeaders, now: number): void {
    this.coolUntil(now + rateLimitCooldownMs(headers));
  }

  /** 5xx, connection error or timeout: back off, longer each time in a row. */
  failed(now: number): void {
    this.failures += 1;
    const backoff = Math.min(
      FAILURE_BACKOFF_MAX_MS,
      FAILURE_BACKOFF_BASE_MS * 2 ** (this.failures - 1),
    );
    this.coolUntil(now + backoff);
  }

  succeeded(firstByteMs: number): void {
    this.failures = 0;
    // Weight 0.3 on the newest sample: quick to notice a slow region, not jumpy.
    this.latencyMs =
      this.latencyMs === undefined ? firstByteMs : this.latencyMs * 0.7 + firstByteMs * 0.3;
  }

  private coolUntil(until: number): void {
    if (until > this.coolingUntil) this.coolingUntil = until;
  }
}

/**
 * How long a 429 asks us to wait: `retry-after-ms`, else `retry-after` (seconds or an HTTP date),
 * else the `x-ratelimit-reset-requests` / `-tokens` hint, else a default.
 */
export function rateLimitCooldownMs(headers: IncomingHttpHeaders, now = Date.now()): number {
  const ms = Number(first(headers["retry-after-ms"]));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const retryAfter = first(headers["retry-after"]);
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds > 0) return seconds * 1000;
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date) && date > now) return date - now;
  }
  for (const name of ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"]) {
    const hint = parseDurationHint(first(headers[name]));
    if (hint !== undefined && hint > 0) return hint;
  }
  return DEFAULT_RATE_LIMIT_COOLDOWN_MS;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** OpenAI-style reset hints: "6m0s", "1.5s", "20ms", or plain seconds. */
function parseDurationHint(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw) * 1000;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  let matched = "";
  for (const part of raw.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    total += Number(part[1]) * (units[part[2] as string] ?? 0);
    matched += part[0];
  }
  return matched === raw ? total : undefined;
}
