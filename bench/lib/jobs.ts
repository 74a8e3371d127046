/** The jobs the load generator (bench/load.ts) runs, and what it answers. */
import type { Summary } from "./stats.ts";

/** Where to send the load, and as whom. */
export interface Target {
  readonly host: string;
  readonly port: number;
  /** Path of a chat completion: the OpenAI route, or the Azure one for `direct`. */
  readonly chatPath: string;
  readonly uploadPath: string;
  /** SDK headers plus the credential. */
  readonly headers: Readonly<Record<string, string>>;
}

export type Job =
  | { kind: "closed"; target: Target; connections: number; durationMs: number }
  | { kind: "rate"; target: Target; rate: number; durationMs: number; connections: number }
  | {
      kind: "streams";
      target: Target;
      concurrency: number;
      warmupMs: number;
      durationMs: number;
      chunks: number;
      intervalMs: number;
    }
  | {
      kind: "idle-streams";
      target: Target;
      count: number;
      chunks: number;
      intervalMs: number;
      rampMs: number;
      timeoutMs: number;
    }
  | { kind: "upload"; target: Target; bytes: number; modelFirst: boolean; timeoutMs: number }
  | { kind: "json"; target: Target; bytes: number; timeoutMs: number };

export interface ClosedResult {
  readonly requests: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly rps: number;
  readonly latencyMs: Summary;
}

export interface RateResult {
  readonly scheduled: number;
  readonly completed: number;
  readonly errors: number;
  readonly non2xx: number;
  /** From the scheduled send time (no coordinated omission). */
  readonly latencyMs: number[];
  /** From the actual send time. */
  readonly serviceMs: Summary;
  /** How late the generator's timer fired, to show the generator kept up. */
  readonly lateMs: Summary;
}

export interface StreamsResult {
  readonly streams: number;
  readonly completed: number;
  readonly failed: number;
  readonly coalesced: number;
  readonly ttfcMs: Summary;
  readonly gapMs: Summary;
  readonly durationMs: Summary;
  readonly errors: readonly string[];
}

export interface TransferResult {
  readonly status: number;
  readonly ms: number;
  readonly bytes: number;
  /** The body length the fake Azure says it received. */
  readonly upstreamBytes: number | undefined;
  readonly error: string | undefined;
}

export interface JobAnswer {
  readonly id: number;
  readonly result?: unknown;
  readonly error?: string;
  /** The generator's own CPU time for the job. */
  readonly cpuMs: number;
}
