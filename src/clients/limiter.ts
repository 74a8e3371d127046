import type { ClientLimits } from "../config/clients.ts";
import {
  clientBudgetExhausted,
  clientRateLimited,
  limitsUnavailable,
  type ProxyError,
} from "../openai/errors.ts";
import type { ClientIdentity } from "./authenticate.ts";
import { dayOf, decide, type LimitVerdict } from "./limit-decision.ts";
import { type LimitsStore, rowKey, type UsageCharge, type UsageReport } from "./limits-store.ts";

/** The logger calls the limiter makes (pino's shape). */
export interface LimiterLog {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}

export interface ClientLimiterOptions {
  readonly store: LimitsStore;
  /** AZURE_OPENAI_PROXY_REDIS_FAIL=closed: refuse clients with limits while the store is away. */
  readonly failClosed: boolean;
  readonly log: LimiterLog;
  /** The longest a request waits for the store. */
  readonly waitMs?: number;
  /** How often an unreachable store is tried again. */
  readonly probeMs?: number;
  /** Charges held during an outage, at most (rows of client, model, deployment, day). */
  readonly maxHeld?: number;
  readonly now?: () => number;
}

/** Thrown when the store does not answer in time. */
class StoreTimeout extends Error {}

/**
 * Enforces client limits with a store, and keeps the proxy serving when the store (Redis) is slow
 * or down: no request waits more than `waitMs` for it; while it is away, requests go on without
 * limits (or, fail-closed, clients with limits get 503), one warning is logged for the whole
 * outage, charges are held and summed, and they are applied once the store answers again.
 */
export class ClientLimiter {
  private readonly store: LimitsStore;
  private readonly failClosed: boolean;
  private readonly log: LimiterLog;
  private readonly waitMs: number;
  private readonly probeMs: number;
  private readonly maxHeld: number;
  private readonly now: () => number;
  private available = true;
  private probe: NodeJS.Timeout | undefined;
  private readonly held = new Map<string, { charge: UsageCharge; at: number }>();
  private dropped = 0;

  constructor(options: ClientLimiterOptions) {
    this.store = options.store;
    this.failClosed = options.failClosed;
    this.log = options.log;
    this.waitMs = options.waitMs ?? 50;
    this.probeMs = options.probeMs ?? 1000;
    this.maxHeld = options.maxHeld ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Admits one request of the client or throws its 429 (or 503, fail-closed). Returns the
   * x-ratelimit-* headers for the answer; none for a client without limits, which costs no
   * store call.
   */
  async admit(client: ClientIdentity): Promise<Readonly<Record<string, string>>> {
    const limits = client.policy.limits;
    if (!hasLimits(limits)) return {};
    if (!this.available) return this.whileAway();
    const now = this.now();
    let verdict: LimitVerdict;
    try {
      verdict = decide(await this.inTime(this.store.admit(client.name, limits, now)), limits, now);
    } catch (error) {
      this.lost(error);
      return this.whileAway();
    }
    if (verdict.refusal !== undefined) throw refusalError(client.name, limits, verdict);
    return verdict.headers;
  }

  /** Charges an answered request; never waits, never throws. */
  charge(charge: UsageCharge): void {
    const at = this.now();
    if (!this.available) {
      this.hold(charge, at);
      return;
    }
    this.store.charge(charge, at).catch((error: unknown) => {
      this.hold(charge, at);
      this.lost(error);
    });
  }

  usage(): Promise<UsageReport> {
    return this.store.usage(this.now());
  }

  async close(): Promise<void> {
    clearInterval(this.probe);
    this.probe = undefined;
    await this.store.close();
  }

  private whileAway(): Readonly<Record<string, string>> {
    if (this.failClosed) throw limitsUnavailable();
    return {};
  }

  private inTime<T>(promise: Promise<T>): Promise<T> {
    // A store in this process answers at once; a timer per request would cost more than it.
    if (!this.store.remote) return promise;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StoreTimeout(`no answer in ${this.waitMs} ms`)),
        this.waitMs,
      );
    });
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
  }

  /** The start of an outage: one warning, then a probe until the store answers. */
  private lost(error: unknown): void {
    if (!this.available) return;
    this.available = false;
    this.log.warn(
      { err: (error as Error)?.message ?? String(error) },
      this.failClosed
        ? "limits store unreachable: clients with limits get 503 until it is back"
        : "limits store unreachable: client limits are not enforced until it is back",
    );
    this.probe = setInterval(() => void this.tryAgain(), this.probeMs);
    this.probe.unref();
  }

  private async tryAgain(): Promise<void> {
    try {
      await this.inTime(this.store.ping());
    } catch {
      return;
    }
    if (this.available) return;
    clearInterval(this.probe);
    this.probe = undefined;
    this.available = true;
    const held = [...this.held.values()];
    this.held.clear();
    const dropped = this.dropped;
    this.dropped = 0;
    this.log.info(
      { heldCharges: held.length, droppedCharges: dropped },
      "limits store is back: client limits are enforced again",
    );
    for (const { charge, at } of held) {
      this.store.charge(charge, at).catch((error: unknown) => {
        this.hold(charge, at);
        this.lost(error);
      });
    }
  }

  /** Sums charges per usage row and day while the store is away. */
  private hold(charge: UsageCharge, at: number): void {
    const key = `${rowKey(charge.client, charge.model, charge.deployment)}\u001f${dayOf(at)}`;
    const before = this.held.get(key);
    if (before === undefined) {
      if (this.held.size >= this.maxHeld) {
        this.dropped++;
        return;
      }
      this.held.set(key, { charge, at });
      return;
    }
    const a = before.charge;
    const b = charge;
    const tokens =
      a.tokens === undefined && b.tokens === undefined
        ? undefined
        : {
            prompt: (a.tokens?.prompt ?? 0) + (b.tokens?.prompt ?? 0),
            completion: (a.tokens?.completion ?? 0) + (b.tokens?.completion ?? 0),
            reasoning: (a.tokens?.reasoning ?? 0) + (b.tokens?.reasoning ?? 0),
            cached: (a.tokens?.cached ?? 0) + (b.tokens?.cached ?? 0),
          };
    this.held.set(key, {
      charge: { ...a, tokens, requests: (a.requests ?? 1) + (b.requests ?? 1) },
      at: before.at,
    });
  }
}

export function hasLimits(limits: ClientLimits): boolean {
  return limits.rpm !== undefined || limits.tpm !== undefined || limits.tokensPerDay !== undefined;
}

function refusalError(client: string, limits: ClientLimits, verdict: LimitVerdict): ProxyError {
  const { refusal, retryAfterMs, headers } = verdict;
  if (refusal === "budget") {
    return clientBudgetExhausted(client, limits.tokensPerDay ?? 0, retryAfterMs, headers);
  }
  const value = refusal === "requests" ? limits.rpm : limits.tpm;
  return clientRateLimited(client, refusal ?? "requests", value ?? 0, retryAfterMs, headers);
}
