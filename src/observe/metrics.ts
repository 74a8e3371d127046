import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { BoundedLabel, OTHER } from "./bounded-label.ts";
import {
  ANONYMOUS,
  attemptsOf,
  type RequestRecord,
  TOKEN_TYPES,
  targetParts,
} from "./request-record.ts";
import { CounterSeries, HistogramSeries } from "./series.ts";

/** The label of requests that name no model (files, batches, …). */
export const NO_MODEL = "none";

/** Whole requests last seconds to minutes (long generations, streams): bounds up to 10 minutes. */
const DURATION_BOUNDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];
const FIRST_BYTE_BOUNDS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60];

/** Whether a target is serving (1) or cooling down (0), read at scrape time. */
export interface TargetAvailability {
  readonly resource: string;
  readonly deployment: string | undefined;
  readonly available: boolean;
}

export interface MetricsOptions {
  /**
   * Whether a model name may be a label value: configured, or a known deployment. Others are
   * counted as `other`. Called once per recorded request; make it a set lookup. Default: any.
   */
  readonly knownModel?: (name: string) => boolean;
  /** The targets and their health, read at each scrape (no cost per request). */
  readonly targets?: () => Iterable<TargetAvailability>;
  /** prom-client's process metrics (CPU, memory, event loop lag, GC). Default true. */
  readonly processMetrics?: boolean;
  /** Distinct values one label may take before new ones become `other`. Default 200. */
  readonly maxLabelValues?: number;
}

/**
 * The proxy's Prometheus metrics. The server calls `record` once when a response ends, and
 * `streamOpened`/`streamClosed` around streams; target health is read when scraped.
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly knownModel: (name: string) => boolean;
  private readonly requests = new CounterSeries(
    "azure_oai_proxy_requests_total",
    "Requests answered, by operation, model, client and status.",
    ["operation", "model", "client", "status"],
  );
  private readonly duration = new HistogramSeries(
    "azure_oai_proxy_request_duration_seconds",
    "Time from a request's arrival to the end of its response.",
    ["operation", "model"],
    DURATION_BOUNDS,
  );
  private readonly firstByte = new HistogramSeries(
    "azure_oai_proxy_time_to_first_byte_seconds",
    "Time from a request's arrival to the first byte of its answer.",
    ["operation", "model"],
    FIRST_BYTE_BOUNDS,
  );
  private readonly upstream = new CounterSeries(
    "azure_oai_proxy_upstream_requests_total",
    "Attempts sent to Azure, by resource, deployment and Azure's status (error: no answer).",
    ["resource", "deployment", "status"],
  );
  private readonly failovers = new CounterSeries(
    "azure_oai_proxy_failovers_total",
    "Times a request moved on to another target, by model and the reason.",
    ["model", "reason"],
  );
  private readonly tokens = new CounterSeries(
    "azure_oai_proxy_tokens_total",
    "Tokens from Azure's usage, by model, deployment, client and type (reasoning is part of completion, cached part of prompt).",
    ["model", "deployment", "client", "type"],
  );
  private readonly targetGauge: Gauge<"resource" | "deployment">;
  private streams = 0;
  private openStreamsSource: (() => number) | undefined;
  private scrapeSource: (() => Promise<string>) | undefined;
  private readonly labels: Record<
    "operation" | "model" | "client" | "deployment" | "resource" | "reason",
    BoundedLabel
  >;

  constructor(options: MetricsOptions = {}) {
    this.knownModel = options.knownModel ?? (() => true);
    const limit = options.maxLabelValues ?? 200;
    this.labels = {
      operation: new BoundedLabel(limit),
      model: new BoundedLabel(limit),
      client: new BoundedLabel(limit),
      deployment: new BoundedLabel(limit),
      resource: new BoundedLabel(limit),
      reason: new BoundedLabel(limit),
    };
    for (const series of [
      this.requests,
      this.duration,
      this.firstByte,
      this.upstream,
      this.failovers,
      this.tokens,
    ]) {
      series.registerIn(this.registry);
    }
    const targets = options.targets;
    this.targetGauge = new Gauge({
      name: "azure_oai_proxy_target_available",
      help: "1 while a target (resource and deployment) is serving, 0 while it cools down.",
      labelNames: ["resource", "deployment"],
      registers: [this.registry],
      // Each worker of a pool learns health itself: a target cooling in any one shows as 0.
      aggregator: "min",
      collect() {
        if (targets === undefined) return;
        this.reset();
        for (const t of targets()) {
          this.set({ resource: t.resource, deployment: t.deployment ?? "" }, t.available ? 1 : 0);
        }
      },
    });
    const streams = () => this.openStreamsSource?.() ?? this.streams;
    new Gauge({
      name: "azure_oai_proxy_active_streams",
      help: "Streamed answers (SSE) being sent right now.",
      registers: [this.registry],
      collect() {
        this.set(streams());
      },
    });
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Counts one finished request: its status, timings, every upstream attempt, its tokens. */
  record(record: RequestRecord, status: number, durationMs: number): void {
    const operation = this.labels.operation.value(record.operation ?? "none");
    const model = this.modelLabel(record.model);
    const client = this.labels.client.value(record.client ?? ANONYMOUS);
    this.requests.child(operation, model, client, String(status)).value += 1;
    this.duration.child(operation, model).observe(durationMs / 1000);
    if (record.firstByteMs !== undefined) {
      this.firstByte.child(operation, model).observe(record.firstByteMs / 1000);
    }
    const attempts = attemptsOf(record, status, durationMs);
    for (let i = 0; i < attempts.length; i++) {
      const attempt = attempts[i] as (typeof attempts)[number];
      const { resource, deployment } = targetParts(attempt);
      this.upstream.child(
        this.labels.resource.value(resource),
        this.labels.deployment.value(deployment),
        attempt.status === undefined ? "error" : String(attempt.status),
      ).value += 1;
      // A failover is a move to the next attempt; the last one's reason moved nowhere.
      if (attempt.failover !== undefined && i < attempts.length - 1) {
        this.failovers.child(model, this.labels.reason.value(attempt.failover)).value += 1;
      }
    }
    const usage = record.usage;
    if (usage !== undefined) {
      const deployment = this.labels.deployment.value(record.deployment ?? "");
      for (const type of TOKEN_TYPES) {
        this.tokens.child(model, deployment, client, type).value += usage[type];
      }
    }
  }

  /** A stream (SSE answer) began sending. */
  streamOpened(): void {
    this.streams += 1;
  }

  streamClosed(): void {
    if (this.streams > 0) this.streams -= 1;
  }

  get openStreams(): number {
    return this.openStreamsSource?.() ?? this.streams;
  }

  /** Reads the open streams from elsewhere at scrape time, instead of counting them here. */
  openStreamsFrom(source: () => number): void {
    this.openStreamsSource = source;
  }

  /** Sets a target's availability by hand; a `targets` source given at construction wins. */
  targetAvailable(resource: string, deployment: string | undefined, available: boolean): void {
    this.targetGauge.set({ resource, deployment: deployment ?? "" }, available ? 1 : 0);
  }

  /** The Prometheus text exposition of every metric (of every worker, in a worker pool). */
  scrape(): Promise<string> {
    return this.scrapeSource?.() ?? this.registry.metrics();
  }

  /** Scrapes elsewhere: the primary of a worker pool, which adds up every worker's registry. */
  scrapeFrom(source: () => Promise<string>): void {
    this.scrapeSource = source;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private modelLabel(model: string | undefined): string {
    if (model === undefined || model === "") return NO_MODEL;
    return this.knownModel(model) ? this.labels.model.value(model) : OTHER;
  }
}
