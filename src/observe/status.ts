import { BoundedLabel, OTHER } from "./bounded-label.ts";
import { LatencyHistogram } from "./latency-histogram.ts";
import { NO_MODEL } from "./metrics.ts";
import {
  ANONYMOUS,
  attemptsOf,
  type RequestRecord,
  type TokenUsage,
  targetParts,
} from "./request-record.ts";
import type { TargetSource, TargetView } from "./route-targets.ts";

const BUCKET_MS = 10_000;
const WINDOW_BUCKETS = 30;
/** The figures of the page cover the last five minutes. */
export const WINDOW_MS = BUCKET_MS * WINDOW_BUCKETS;

/** What `GET /status.json` answers. */
export interface StatusSnapshot {
  readonly generatedAt: string;
  readonly startedAt: string;
  /** The span the rates and percentiles cover: five minutes, or the uptime when shorter. */
  readonly windowSeconds: number;
  readonly configuration: { readonly source: string; readonly loadedAt: string } | null;
  readonly streamsOpen: number;
  readonly overall: WindowFigures;
  /** Busiest first; configured models appear even without traffic. */
  readonly models: readonly ModelStatus[];
  readonly tokensToday: {
    /** The UTC day counted, YYYY-MM-DD. */
    readonly day: string;
    readonly byModel: readonly TokenRow[];
    readonly byClient: readonly TokenRow[];
  };
}

export interface WindowFigures {
  readonly requests: number;
  readonly requestsPerSecond: number;
  /** Answers with status 429 or 5xx: Azure or the proxy could not serve. */
  readonly errors: number;
  readonly errorRate: number;
  /** Other 4xx answers: the client's mistakes, counted apart. */
  readonly rejected: number;
  readonly latencyMs: Percentiles | null;
  readonly firstByteMs: Percentiles | null;
}

export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
}

export interface ModelStatus extends WindowFigures {
  readonly model: string;
  readonly targets: readonly TargetStatus[];
}

export interface TargetStatus {
  readonly id: string;
  readonly resource: string;
  readonly deployment: string | null;
  readonly state: "serving" | "cooling";
  readonly coolingUntil: string | null;
  /** The last failure seen on this target, while it cools. */
  readonly why: string | null;
  readonly failuresInRow: number;
  /** Attempts sent to it in the window, and how many failed. */
  readonly attempts: number;
  readonly failedAttempts: number;
}

export interface TokenRow extends TokenUsage {
  readonly name: string;
  readonly requests: number;
}

export interface StatusOptions {
  readonly targets?: TargetSource;
  readonly openStreams?: () => number;
  /** As for the metrics: names neither configured nor deployments are shown as `other`. */
  readonly knownModel?: (name: string) => boolean;
  readonly now?: () => number;
}

class Figures {
  requests = 0;
  errors = 0;
  rejected = 0;
  readonly latency = new LatencyHistogram();
  readonly firstByte = new LatencyHistogram();

  add(other: Figures): void {
    this.requests += other.requests;
    this.errors += other.errors;
    this.rejected += other.rejected;
    this.latency.add(other.latency);
    this.firstByte.add(other.firstByte);
  }
}

class ModelBucket extends Figures {
  /** Target id -> [attempts, failed attempts]. */
  readonly targets = new Map<string, [number, number]>();
}

interface Bucket {
  start: number;
  readonly overall: Figures;
  readonly models: Map<string, ModelBucket>;
}

/**
 * The figures behind the status page: a ring of thirty 10-second buckets (fixed memory, whatever
 * the traffic), today's tokens per model and client, and target health read when asked.
 */
export class StatusBoard {
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly ring: Bucket[] = [];
  private readonly targets: TargetSource | undefined;
  private readonly openStreams: () => number;
  private readonly knownModel: (name: string) => boolean;
  private readonly modelNames = new BoundedLabel(200);
  private readonly clientNames = new BoundedLabel(500);
  /** Target id -> the last failure seen on it. */
  private readonly lastFailure = new Map<string, string>();
  private configuration: { source: string; loadedAt: number } | undefined;
  private day = "";
  private tokensByModel = new Map<string, TokenRow & { requests: number }>();
  private tokensByClient = new Map<string, TokenRow & { requests: number }>();

  constructor(options: StatusOptions = {}) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.targets = options.targets;
    this.openStreams = options.openStreams ?? (() => 0);
    this.knownModel = options.knownModel ?? (() => true);
    for (let i = 0; i < WINDOW_BUCKETS; i++) {
      this.ring.push({ start: -1, overall: new Figures(), models: new Map() });
    }
  }

  /** The configuration in force was (re)loaded from `source` ("environment" or a file). */
  configLoaded(source: string, at = this.now()): void {
    this.configuration = { source, loadedAt: at };
  }

  /** Counts one finished request. */
  record(record: RequestRecord, status: number, durationMs: number): void {
    const now = this.now();
    const bucket = this.bucketAt(now);
    const model = this.modelName(record.model);
    let figures = bucket.models.get(model);
    if (figures === undefined) {
      figures = new ModelBucket();
      bucket.models.set(model, figures);
    }
    const failed = status === 429 || status >= 500;
    const rejected = !failed && status >= 400;
    for (const f of [bucket.overall, figures]) {
      f.requests += 1;
      if (failed) f.errors += 1;
      if (rejected) f.rejected += 1;
      f.latency.observe(durationMs);
      if (record.firstByteMs !== undefined) f.firstByte.observe(record.firstByteMs);
    }
    for (const attempt of attemptsOf(record, status, durationMs)) {
      const attemptFailed =
        attempt.status === undefined || attempt.status === 429 || attempt.status >= 500;
      const counts = figures.targets.get(attempt.target) ?? [0, 0];
      counts[0] += 1;
      if (attemptFailed) counts[1] += 1;
      figures.targets.set(attempt.target, counts);
      if (attemptFailed) {
        if (this.lastFailure.size >= 1000) this.lastFailure.clear();
        this.lastFailure.set(attempt.target, failureReason(attempt.failover, attempt.status));
      }
    }
    if (record.usage !== undefined) this.countTokens(record, model, now);
  }

  /** The page's figures as of now. */
  snapshot(): StatusSnapshot {
    const now = this.now();
    const since = now - WINDOW_MS;
    const overall = new Figures();
    const models = new Map<string, ModelBucket>();
    for (const bucket of this.ring) {
      if (bucket.start <= since || bucket.start > now) continue;
      overall.add(bucket.overall);
      for (const [name, figures] of bucket.models) {
        let sum = models.get(name);
        if (sum === undefined) {
          sum = new ModelBucket();
          models.set(name, sum);
        }
        sum.add(figures);
        for (const [id, [attempts, failedAttempts]] of figures.targets) {
          const counts = sum.targets.get(id) ?? [0, 0];
          counts[0] += attempts;
          counts[1] += failedAttempts;
          sum.targets.set(id, counts);
        }
      }
    }
    const seconds = Math.max(1, Math.min(WINDOW_MS, now - this.startedAt) / 1000);
    const known = new Map<string, TargetView>();
    const pools = new Map<string, readonly TargetView[]>();
    if (this.targets !== undefined) {
      for (const t of this.targets.all()) known.set(t.id, t);
      for (const { model, targets } of this.targets.pools()) {
        pools.set(model, targets);
        for (const t of targets) known.set(t.id, t);
      }
    }
    const names = new Set([...pools.keys(), ...models.keys()]);
    const rows: ModelStatus[] = [];
    for (const name of names) {
      const figures = models.get(name) ?? new ModelBucket();
      const ids = new Set([...(pools.get(name) ?? []).map((t) => t.id), ...figures.targets.keys()]);
      const targets = [...ids].map((id) =>
        this.targetStatus(id, known.get(id), figures.targets.get(id), now),
      );
      rows.push({ model: name, ...windowFigures(figures, seconds), targets });
    }
    rows.sort((a, b) => b.requests - a.requests || a.model.localeCompare(b.model));
    this.rollDay(now);
    return {
      generatedAt: new Date(now).toISOString(),
      startedAt: new Date(this.startedAt).toISOString(),
      windowSeconds: Math.round(seconds),
      configuration:
        this.configuration === undefined
          ? null
          : {
              source: this.configuration.source,
              loadedAt: new Date(this.configuration.loadedAt).toISOString(),
            },
      streamsOpen: this.openStreams(),
      overall: windowFigures(overall, seconds),
      models: rows,
      tokensToday: {
        day: this.day,
        byModel: tokenRows(this.tokensByModel),
        byClient: tokenRows(this.tokensByClient),
      },
    };
  }

  private targetStatus(
    id: string,
    view: TargetView | undefined,
    counts: [number, number] | undefined,
    now: number,
  ): TargetStatus {
    const cooling = view !== undefined && view.coolingUntil > now;
    const parts = view ?? { ...targetParts({ target: id, ms: 0 }), failures: 0 };
    return {
      id,
      resource: parts.resource,
      deployment: parts.deployment === "" ? null : (parts.deployment ?? null),
      state: cooling ? "cooling" : "serving",
      coolingUntil: cooling ? new Date(view.coolingUntil).toISOString() : null,
      why: cooling ? (this.lastFailure.get(id) ?? `${view.failures} failures in a row`) : null,
      failuresInRow: parts.failures,
      attempts: counts?.[0] ?? 0,
      failedAttempts: counts?.[1] ?? 0,
    };
  }

  private bucketAt(now: number): Bucket {
    const start = now - (now % BUCKET_MS);
    const bucket = this.ring[Math.floor(start / BUCKET_MS) % WINDOW_BUCKETS] as Bucket;
    if (bucket.start !== start) {
      // Reused from five minutes ago (or never used): start it afresh.
      const fresh = { start, overall: new Figures(), models: new Map() };
      this.ring[Math.floor(start / BUCKET_MS) % WINDOW_BUCKETS] = fresh;
      return fresh;
    }
    return bucket;
  }

  private modelName(model: string | undefined): string {
    if (model === undefined || model === "") return NO_MODEL;
    return this.knownModel(model) ? this.modelNames.value(model) : OTHER;
  }

  private countTokens(record: RequestRecord, model: string, now: number): void {
    this.rollDay(now);
    const usage = record.usage as TokenUsage;
    const client = this.clientNames.value(record.client ?? ANONYMOUS);
    for (const [table, name] of [
      [this.tokensByModel, model],
      [this.tokensByClient, client],
    ] as const) {
      let row = table.get(name);
      if (row === undefined) {
        row = { name, requests: 0, prompt: 0, completion: 0, reasoning: 0, cached: 0 };
        table.set(name, row);
      }
      row.requests += 1;
      row.prompt += usage.prompt;
      row.completion += usage.completion;
      row.reasoning += usage.reasoning;
      row.cached += usage.cached;
    }
  }

  /** Token counts start again at midnight UTC. */
  private rollDay(now: number): void {
    const day = new Date(now).toISOString().slice(0, 10);
    if (day === this.day) return;
    this.day = day;
    this.tokensByModel = new Map();
    this.tokensByClient = new Map();
  }
}

function windowFigures(f: Figures, seconds: number): WindowFigures {
  const percentiles = (h: LatencyHistogram): Percentiles | null =>
    h.total === 0 ? null : { p50: h.quantile(0.5) as number, p99: h.quantile(0.99) as number };
  return {
    requests: f.requests,
    requestsPerSecond: Math.round((f.requests / seconds) * 100) / 100,
    errors: f.errors,
    errorRate: f.requests === 0 ? 0 : Math.round((f.errors / f.requests) * 10_000) / 10_000,
    rejected: f.rejected,
    latencyMs: percentiles(f.latency),
    firstByteMs: percentiles(f.firstByte),
  };
}

function tokenRows(table: Map<string, TokenRow>): TokenRow[] {
  return [...table.values()]
    .map((row) => ({ ...row }))
    .sort((a, b) => b.prompt + b.completion - (a.prompt + a.completion));
}

function failureReason(failover: string | undefined, status: number | undefined): string {
  if (failover !== undefined) return failover;
  return status === undefined ? "no answer" : `azure ${status}`;
}
