import type { ClientLimits } from "../config/clients.ts";
import type { UsageTokens } from "./charged-tokens.ts";
import type { WindowCounts } from "./limit-decision.ts";

/** One answered request, charged to its client once Azure's usage is known. */
export interface UsageCharge {
  readonly client: string;
  /** The model name the client sent. */
  readonly model: string;
  /** The Azure deployment that answered ("" when none was reached). */
  readonly deployment: string;
  /** undefined for answers without usage: they count as requests only. */
  readonly tokens: UsageTokens | undefined;
  /** How many requests this charge stands for: 1, or more when charges were held in an outage. */
  readonly requests?: number;
}

/** Requests and tokens of one client, model and deployment over a period. */
export interface UsageRow {
  readonly client: string;
  readonly model: string;
  readonly deployment: string;
  readonly requests: number;
  readonly prompt: number;
  readonly completion: number;
  readonly reasoning: number;
  readonly cached: number;
}

/** What `GET /usage` shows: today (UTC) and the current clock minute. */
export interface UsageReport {
  readonly today: { readonly date: string; readonly rows: readonly UsageRow[] };
  readonly minute: { readonly start: string; readonly rows: readonly UsageRow[] };
}

/**
 * Where client counters live: this process (`MemoryLimitsStore`) or Redis shared by every
 * replica (`RedisLimitsStore`). Each method is one atomic step; `now` comes from the caller so
 * replicas and tests agree on which minute and day it is.
 */
export interface LimitsStore {
  /** Answers over the network: the limiter then waits for it no longer than its deadline. */
  readonly remote: boolean;
  /**
   * Reads the client's counters and, when `admits` (limit-decision.ts) allows the request,
   * counts it, in one step. Returns the counters as they were before.
   */
  admit(client: string, limits: ClientLimits, now: number): Promise<WindowCounts>;
  /** Adds one answered request and its tokens to the client's windows and to the usage report. */
  charge(charge: UsageCharge, now: number): Promise<void>;
  usage(now: number): Promise<UsageReport>;
  /** Resolves when the store answers; used to notice that it is back after an outage. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Fields of a usage row, in the order stores keep them. */
export const USAGE_FIELDS = ["requests", "prompt", "completion", "reasoning", "cached"] as const;
export type UsageField = (typeof USAGE_FIELDS)[number];

/** The increments one charge adds to its usage row. */
export function usageIncrements(charge: UsageCharge): Record<UsageField, number> {
  const tokens = charge.tokens;
  return {
    requests: charge.requests ?? 1,
    prompt: tokens?.prompt ?? 0,
    completion: tokens?.completion ?? 0,
    reasoning: tokens?.reasoning ?? 0,
    cached: tokens?.cached ?? 0,
  };
}

/**
 * A usage row's identity as one string: model and deployment names cannot hold control
 * characters (isSafeModelName), nor can client names, so the unit separator cannot collide.
 */
export function rowKey(client: string, model: string, deployment: string): string {
  return `${client}\u001f${model}\u001f${deployment}`;
}

export function rowFromKey(key: string, counts: Partial<Record<UsageField, number>>): UsageRow {
  const [client = "", model = "", deployment = ""] = key.split("\u001f");
  return {
    client,
    model,
    deployment,
    requests: counts.requests ?? 0,
    prompt: counts.prompt ?? 0,
    completion: counts.completion ?? 0,
    reasoning: counts.reasoning ?? 0,
    cached: counts.cached ?? 0,
  };
}

/** Rows in a stable order: client, model, deployment. */
export function sortRows(rows: UsageRow[]): UsageRow[] {
  return rows.sort(
    (a, b) =>
      a.client.localeCompare(b.client) ||
      a.model.localeCompare(b.model) ||
      a.deployment.localeCompare(b.deployment),
  );
}

export function minuteStart(minute: number): string {
  return new Date(minute * 60_000).toISOString();
}
