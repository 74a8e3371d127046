import type { EntraCredentialKind } from "../config/entra.ts";
import { type ProxyError, upstreamAuthFailed } from "../openai/errors.ts";
import type { TokenSource } from "./entra-credential.ts";

/** What /healthz shows of one token: how long it has left, never the token itself. */
export interface EntraTokenStatus {
  readonly auth: "entra";
  readonly credential: EntraCredentialKind;
  readonly scope: string;
  /** A token has been had and is still usable. */
  readonly ready: boolean;
  /** Whole seconds until the current token expires; null before the first token. */
  readonly expiresInSeconds: number | null;
  /** What the credential said when the last fetch failed; null after a success. */
  readonly lastError: string | null;
}

export interface TokenCacheOptions {
  readonly credential: EntraCredentialKind;
  readonly scope: string;
  /** Called on the first fetch (and again after it failed), so a bad setup surfaces per request. */
  readonly source: () => Promise<TokenSource>;
  /** Refresh this long before expiry (default 5 min; at most half the token's lifetime). */
  readonly refreshMarginMs?: number;
  /** After a failed fetch, try again in the background this much later (default 10 s). */
  readonly retryMs?: number;
  /** A fetch that takes longer fails (default 30 s). */
  readonly fetchTimeoutMs?: number;
  /** With no usable token, a failure is repeated to callers this long instead of fetching again. */
  readonly failureHoldMs?: number;
  readonly now?: () => number;
}

interface HeldToken {
  readonly token: string;
  readonly expiresAt: number;
  /** Callers stop being given the token from here on and wait for a new one. */
  readonly usableUntil: number;
}

/**
 * One Microsoft Entra ID token for one credential and scope. Callers share it; it is refreshed in
 * the background before it expires, concurrent callers share one fetch, and a token Azure refused
 * can be replaced at once with `refresh`.
 */
export class EntraTokenCache {
  readonly credential: EntraCredentialKind;
  readonly scope: string;
  /** What caches keyed by credential (the deployment listing) use for this token, whatever its value. */
  readonly cacheKey: string;
  /** Fetches started, for tests and metrics. */
  fetches = 0;
  private readonly options: Required<Omit<TokenCacheOptions, "credential" | "scope" | "source">>;
  private readonly loadSource: () => Promise<TokenSource>;
  private source: TokenSource | undefined;
  private current: HeldToken | undefined;
  private inflight: Promise<string> | undefined;
  private lastError: { error: ProxyError; at: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: TokenCacheOptions) {
    this.credential = options.credential;
    this.scope = options.scope;
    this.cacheKey = `entra ${options.credential} ${options.scope}`;
    this.loadSource = options.source;
    this.options = {
      refreshMarginMs: options.refreshMarginMs ?? 5 * 60_000,
      retryMs: options.retryMs ?? 10_000,
      fetchTimeoutMs: options.fetchTimeoutMs ?? 30_000,
      failureHoldMs: options.failureHoldMs ?? 1_000,
      now: options.now ?? Date.now,
    };
  }

  /** A usable token: the cached one, or a fetch shared with every concurrent caller. */
  token(): Promise<string> {
    const now = this.options.now();
    const held = this.current;
    if (held !== undefined && now < held.usableUntil) return Promise.resolve(held.token);
    return this.fetchUnlessFailedJustNow();
  }

  /** A fetch, unless the last one failed less than failureHoldMs ago: then that failure. */
  private fetchUnlessFailedJustNow(): Promise<string> {
    const failed = this.lastError;
    if (failed !== undefined && this.inflight === undefined) {
      const since = this.options.now() - failed.at;
      if (since < this.options.failureHoldMs) return Promise.reject(failed.error);
    }
    return this.fetch();
  }

  /** The cached token when it is usable, without waiting: the hot path's way in. */
  peek(): string | undefined {
    const held = this.current;
    return held !== undefined && this.options.now() < held.usableUntil ? held.token : undefined;
  }

  /**
   * A new token because Azure refused `rejected`. Callers that saw the same token refused share
   * one fetch; a caller whose token was already replaced gets the replacement.
   */
  refresh(rejected: string): Promise<string> {
    const held = this.current;
    if (held !== undefined && held.token !== rejected && this.options.now() < held.usableUntil) {
      return Promise.resolve(held.token);
    }
    if (held?.token === rejected) this.current = undefined;
    return this.fetchUnlessFailedJustNow();
  }

  /** Fetches the first token in the background, retrying until one is had (for /readyz). */
  start(): void {
    if (this.current === undefined) this.fetchInBackground();
  }

  get ready(): boolean {
    return this.current !== undefined && this.options.now() < this.current.usableUntil;
  }

  status(): EntraTokenStatus {
    const held = this.current;
    const now = this.options.now();
    return {
      auth: "entra",
      credential: this.credential,
      scope: this.scope,
      ready: this.ready,
      expiresInSeconds:
        held === undefined ? null : Math.max(0, Math.floor((held.expiresAt - now) / 1000)),
      lastError: this.lastError?.error.message ?? null,
    };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private fetchInBackground(): void {
    this.fetch().catch(() => {
      // Recorded in lastError and retried by the timer fetch() set.
    });
  }

  private fetch(): Promise<string> {
    this.inflight ??= this.fetchOnce().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchOnce(): Promise<string> {
    this.fetches += 1;
    const signal = AbortSignal.timeout(this.options.fetchTimeoutMs);
    try {
      this.source ??= await this.loadSource();
      const token = await Promise.race([
        this.source.getToken([this.scope], { abortSignal: signal }),
        new Promise<never>((_, reject) => {
          signal.addEventListener("abort", () =>
            reject(new Error(`no answer within ${this.options.fetchTimeoutMs} ms`)),
          );
        }),
      ]);
      if (token === null || token.token === "") throw new Error("the credential returned no token");
      this.keep(token.token, token.expiresOnTimestamp, token.refreshAfterTimestamp);
      return token.token;
    } catch (error) {
      this.source = undefined;
      const failure = upstreamAuthFailed(
        this.credential,
        describeFailure(error, this.current?.token),
      );
      this.lastError = { error: failure, at: this.options.now() };
      this.schedule(this.options.retryMs);
      throw failure;
    }
  }

  private keep(token: string, expiresAt: number, refreshAfter: number | undefined): void {
    const now = this.options.now();
    const remaining = Math.max(0, expiresAt - now);
    // Short-lived tokens (and tests) would otherwise never be usable or never be refreshed early.
    const skew = Math.min(30_000, remaining / 4);
    this.current = { token, expiresAt, usableUntil: expiresAt - skew };
    this.lastError = undefined;
    // A credential with its own cache may hand back a token already inside the margin: then
    // halve the remaining time instead of refreshing at once, again and again.
    let delay =
      remaining > 2 * this.options.refreshMarginMs
        ? remaining - this.options.refreshMarginMs
        : remaining / 2;
    if (refreshAfter !== undefined && refreshAfter > now)
      delay = Math.min(delay, refreshAfter - now);
    this.schedule(Math.max(delay, 250));
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fetchInBackground(), delayMs);
    this.timer.unref();
  }
}

const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/** What the credential said, without anything that looks like a token, and not too long. */
function describeFailure(error: unknown, knownToken: string | undefined): string {
  let message = error instanceof Error ? error.message : String(error);
  if (knownToken !== undefined && knownToken.length >= 8) {
    message = message.split(knownToken).join("[redacted]");
  }
  message = message.replace(JWT, "[redacted]").replace(/\s+/g, " ").trim();
  return message.length > 600 ? `${message.slice(0, 600)}…` : message || "unknown error";
}
