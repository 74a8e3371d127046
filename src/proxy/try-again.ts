import { FAILOVER_STATUSES, type TargetHealth } from "../routing/health.ts";
import type { Outcome } from "./upstream-call.ts";

/** An attempt that produced no answer for the client. */
export type FailedAttempt = Extract<Outcome, { kind: "azure-error" | "failed" }>;

/**
 * What a failed attempt teaches about its target: a 429 cools it for as long as Azure asked;
 * a 5xx, a connection failure or a timeout backs it off. Other errors (400, 401, 404…) are about
 * the request, not the target, and leave its health alone.
 */
export function learnFromFailure(health: TargetHealth, attempt: FailedAttempt, now: number): void {
  if (attempt.kind === "failed") {
    if (attempt.retryable) health.failed(now);
  } else if (attempt.status === 429) health.rateLimited(attempt.headers, now);
  else if (attempt.status >= 500) health.failed(now);
}

/**
 * Whether the request should go on to another target (Caddy's `tryAgain`): only for answers that
 * blame the target, and only while attempts and time are left and nothing reached the client
 * (the caller stops at the first byte, so that part is its own).
 */
export function tryAgain(
  attempt: FailedAttempt,
  attemptsMade: number,
  maxAttempts: number,
  statuses: ReadonlySet<number> = FAILOVER_STATUSES,
): boolean {
  if (attemptsMade >= maxAttempts) return false;
  return attempt.kind === "failed" ? attempt.retryable : statuses.has(attempt.status);
}

/** Why an attempt failed over, for the log; undefined when it did not. */
export function failoverReason(
  attempt: FailedAttempt,
  statuses: ReadonlySet<number> = FAILOVER_STATUSES,
): string | undefined {
  if (attempt.kind === "failed") {
    return attempt.retryable ? (attempt.error.code ?? "failed") : undefined;
  }
  return statuses.has(attempt.status) ? `azure ${attempt.status}` : undefined;
}
