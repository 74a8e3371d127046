import type { IncomingMessage, ServerResponse } from "node:http";
import type { ProxyMetrics } from "./metrics.ts";
import { attemptsOf, type RequestRecord } from "./request-record.ts";
import type { StatusBoard } from "./status.ts";
import type { AttemptTrace, RequestTrace, Tracing } from "./tracing.ts";

/**
 * The one thing the server calls for observation: `begin` when a request arrives, and the
 * response's end does the rest (metrics, status page, trace). Stages only fill in the record;
 * the trace's per-attempt headers are the one thing handed back (`attemptHeaders`).
 */
export class Observer {
  readonly metrics: ProxyMetrics | undefined;
  readonly status: StatusBoard;
  readonly tracing: Tracing | undefined;
  private readonly traces = new WeakMap<
    RequestRecord,
    { trace: RequestTrace; attempts: { span: AttemptTrace; started: number }[] }
  >();
  /** Requests in progress, to count open streams when asked (nothing per chunk). */
  private readonly inFlight = new Set<RequestRecord>();
  /** Model names that reached a deployment that exists: label-worthy. */
  private readonly learned = new Set<string>();
  private readonly configured: (model: string) => boolean;

  constructor(options: {
    metrics: ProxyMetrics | undefined;
    status: StatusBoard;
    tracing: Tracing | undefined;
    /** Whether the configuration names the model (a pool or a mapping). */
    configured: (model: string) => boolean;
  }) {
    this.metrics = options.metrics;
    this.status = options.status;
    this.tracing = options.tracing;
    this.configured = options.configured;
  }

  /** A model name is a label when configured, or once it has reached a deployment. */
  readonly knownModel = (model: string): boolean =>
    this.learned.has(model) || this.configured(model);

  /** Streamed answers being sent now. */
  readonly openStreams = (): number => {
    let open = 0;
    for (const record of this.inFlight) if (record.stream === true) open += 1;
    return open;
  };

  /** Called by the server for each request it routes, with the record the stages fill in. */
  begin(request: IncomingMessage, response: ServerResponse, record: RequestRecord): void {
    const started = performance.now();
    this.inFlight.add(record);
    if (this.tracing !== undefined) {
      this.traces.set(record, { trace: this.tracing.startRequest(request.headers), attempts: [] });
    }
    response.once("close", () => {
      this.inFlight.delete(record);
      // Routes of the proxy's own (health, metrics, status) and unknown paths name no operation.
      if (record.operation === undefined) return;
      const status = response.writableFinished ? response.statusCode : 499;
      const durationMs = performance.now() - started;
      // Azure answered it: the name reached a deployment that exists.
      if (record.model !== undefined && record.target !== undefined && status < 400) {
        if (this.learned.size < 1000) this.learned.add(record.model);
      }
      this.metrics?.record(record, status, durationMs);
      this.status.record(record, status, durationMs);
      this.endTrace(record, status, durationMs);
    });
  }

  /** The trace headers (`traceparent`) for an attempt of this request to `target`; {} untraced. */
  attemptHeaders(record: RequestRecord, target: string): Readonly<Record<string, string>> {
    const traced = this.traces.get(record);
    if (traced === undefined) return {};
    const span = traced.trace.startAttempt(target);
    traced.attempts.push({ span, started: performance.now() });
    return span.headers;
  }

  private endTrace(record: RequestRecord, status: number, durationMs: number): void {
    const traced = this.traces.get(record);
    if (traced === undefined) return;
    this.traces.delete(record);
    // Attempt spans end when the request does, each at its own duration from the record.
    const attempts = attemptsOf(record, status, durationMs);
    traced.attempts.forEach(({ span, started }, i) => {
      const attempt = attempts[i];
      span.end(attempt?.status, attempt?.failover, attempt ? started + attempt.ms : undefined);
    });
    traced.trace.end(record, status);
  }
}
