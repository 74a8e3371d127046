import type { ServerResponse } from "node:http";
import type { RequestRecord } from "../observe/request-record.ts";
import { allTargetsCooling, type ProxyError } from "../openai/errors.ts";
import type { Pool } from "../routing/pool.ts";
import type { Target } from "../routing/target.ts";
import { type RelayOptions, relayAnswer, relayAzureError } from "./relay.ts";
import { type FailedAttempt, failoverReason, learnFromFailure, tryAgain } from "./try-again.ts";
import type { Outcome, UpstreamCall, UpstreamRequest } from "./upstream-call.ts";

/** An error answer from Azure. */
export type AzureErrorOutcome = Extract<Outcome, { kind: "azure-error" }>;

export interface FailoverLimits {
  /** Targets tried at most for one request. */
  readonly maxAttempts: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /** Whole request, retries and streaming included. */
  readonly totalMs: number;
}

export interface ForwardPlan {
  readonly pool: Pool;
  /**
   * The request for a target; undefined when the body cannot be sent again (a big upload). A
   * promise only while a credential is being fetched (a first Entra token).
   */
  request(
    target: Target,
    attempt: number,
  ): UpstreamRequest | undefined | Promise<UpstreamRequest | undefined>;
  /**
   * After Azure answered 401 to `refused`: the same request with a fresh credential, or undefined
   * when there is none to get (key auth) or the body cannot be sent again.
   */
  reauthorize?(
    target: Target,
    refused: UpstreamRequest,
    attempt: number,
  ): Promise<UpstreamRequest | undefined>;
  readonly relay: RelayOptions;
  /** The relay for what a target answered, when it depends on the target (a translated family). */
  relayFor?(target: Target): RelayOptions;
  /**
   * Whether Azure's error is one the plan answers by sending this target a changed request (an
   * adapted parameter, another API), before any byte reached the client. The retry is not a
   * failover: the target's health is not touched.
   */
  retrySameTarget?(target: Target, outcome: Extract<Outcome, { kind: "azure-error" }>): boolean;
  /** Adds a response header naming the target that served. */
  readonly targetHeader: boolean;
  /**
   * Azure answered 401/403: the error to answer instead of relaying Azure's, when the refused
   * credential was the proxy's own (the client is not to blame); undefined relays Azure's.
   */
  credentialRefused?(target: Target, refusal: AzureErrorOutcome): ProxyError | undefined;
}

/** Same-target retries one request may make (a parameter adapted, then the API changed). */
const MAX_SAME_TARGET_RETRIES = 2;

/**
 * Sends a request to a pool: a target is picked, and while nothing has reached the client, a 429,
 * a 5xx, a connection failure or a timeout marks that target's health and the next target is
 * tried, bounded by attempts and the total deadline. Every attempt is logged. When every target
 * is cooling down, answers 429 with the soonest Retry-After without calling Azure.
 */
export async function forwardWithFailover(
  call: UpstreamCall,
  plan: ForwardPlan,
  res: ServerResponse,
  log: RequestRecord,
  limits: FailoverLimits,
): Promise<void> {
  // One controller for both reasons to stop: the client went away, or the total time is up.
  // (AbortSignal.any and AbortSignal.timeout per request showed in profiles.)
  const controller = new AbortController();
  let stopped: "client" | "deadline" | undefined;
  const stopFor = (why: "client" | "deadline") => {
    stopped ??= why;
    controller.abort();
  };
  const onClose = () => {
    if (!res.writableFinished) stopFor("client");
  };
  res.once("close", onClose);
  const timer = setTimeout(() => stopFor("deadline"), limits.totalMs);
  const stop = { signal: controller.signal, stopped: () => stopped };
  const tried = new Set<Target>();
  const records: NonNullable<RequestRecord["attempts"]> = [];
  // One attempt says nothing the request's own log fields don't; more are worth a field each.
  const noteAttempts = () => {
    if (records.length > 1) log.attempts = records;
  };
  let last: FailedAttempt | undefined;
  let lastTarget: Target | undefined;
  let sameTargetRetries = 0;
  let again: Target | undefined;
  try {
    for (let attempt = 0; attempt < limits.maxAttempts && stopped === undefined; attempt++) {
      const target = again ?? plan.pool.pick(tried, Date.now());
      again = undefined;
      if (target === undefined) break;
      const pending = plan.request(target, attempt);
      const request = pending instanceof Promise ? await pending : pending;
      if (request === undefined) break;
      tried.add(target);
      target.health.inFlight += 1;
      const started = performance.now();
      let outcome: Outcome;
      const options = {
        ...stop,
        headersTimeoutMs: limits.headersTimeoutMs,
        bodyTimeoutMs: limits.bodyTimeoutMs,
      };
      try {
        outcome = await call(request, options);
        records.push(attemptRecord(target, outcome, started));
        // A refused Entra token (revoked, rotated) gets one fresh token and one more try, on the
        // same target: nothing has reached the client yet.
        if (outcome.kind === "azure-error" && outcome.status === 401 && plan.reauthorize) {
          const again = await plan.reauthorize(target, request, attempt);
          if (again !== undefined) {
            outcome = await call(again, options);
            records.push(attemptRecord(target, outcome, started));
          }
        }
        if (outcome.kind === "answer" || outcome.kind === "azure-error") {
          const id = outcome.headers["apim-request-id"] ?? outcome.headers["x-request-id"];
          if (typeof id === "string") log.azureRequestId = id;
        }
        if (outcome.kind === "answer") {
          noteAttempts();
          target.health.succeeded(outcome.firstByteMs);
          noteTarget(log, target);
          const relay = withTargetHeader(plan, target);
          await relayAnswer(outcome, res, relay, log, stop);
          return;
        }
      } finally {
        target.health.inFlight -= 1;
      }
      if (outcome.kind === "aborted") {
        log.error = "client closed the connection";
        return;
      }
      last = outcome;
      lastTarget = target;
      if (
        outcome.kind === "azure-error" &&
        sameTargetRetries < MAX_SAME_TARGET_RETRIES &&
        plan.retrySameTarget?.(target, outcome)
      ) {
        sameTargetRetries++;
        again = target;
        attempt--; // not a failover: the client's attempt budget is for other targets
        continue;
      }
      learnFromFailure(target.health, outcome, Date.now());
      if (!tryAgain(outcome, attempt + 1, limits.maxAttempts)) break;
    }
  } finally {
    res.off("close", onClose);
    clearTimeout(timer);
  }
  noteAttempts();

  if (last === undefined || lastTarget === undefined) {
    // Nothing was tried: every target is cooling down.
    const waitMs = Math.max(0, plan.pool.soonestAvailable() - Date.now());
    throw allTargetsCooling(waitMs);
  }
  noteTarget(log, lastTarget);
  if (last.kind === "azure-error" && (last.status === 401 || last.status === 403)) {
    const own = plan.credentialRefused?.(lastTarget, last);
    if (own !== undefined) {
      log.error = own.code ?? undefined;
      throw own;
    }
  }
  if (last.kind === "azure-error") {
    relayAzureError(last, res, withTargetHeader(plan, lastTarget), log);
    return;
  }
  throw last.error;
}

function noteTarget(log: RequestRecord, target: Target): void {
  log.deployment = target.deployment;
  log.target = target.id;
}

function withTargetHeader(plan: ForwardPlan, target: Target): RelayOptions {
  const relay = plan.relayFor?.(target) ?? plan.relay;
  if (!plan.targetHeader) return relay;
  return {
    ...relay,
    headers: { ...relay.headers, "x-azure-oai-proxy-target": target.id },
  };
}

function attemptRecord(target: Target, outcome: Outcome, started: number) {
  const ms = Math.round((performance.now() - started) * 10) / 10;
  switch (outcome.kind) {
    case "answer":
      return { target: target.id, status: outcome.status, ms };
    case "azure-error":
      return { target: target.id, status: outcome.status, ms, failover: failoverReason(outcome) };
    case "failed":
      return {
        target: target.id,
        status: outcome.error.status,
        ms,
        failover: failoverReason(outcome),
      };
    case "aborted":
      return { target: target.id, ms, failover: undefined };
  }
}
