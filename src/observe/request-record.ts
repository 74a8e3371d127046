import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";

/** Token counts from Azure's `usage`; `reasoning` and `cached` are parts of `completion` and `prompt`. */
export interface TokenUsage {
  prompt: number;
  completion: number;
  reasoning: number;
  cached: number;
}

export const TOKEN_TYPES = ["prompt", "completion", "reasoning", "cached"] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

/** The client label of callers without a configured name. */
export const ANONYMOUS = "anonymous";

/** One upstream attempt: target, status, duration, and why it failed over. */
export interface AttemptRecord {
  /** `resource/deployment`, or the resource alone for resource-scoped operations. */
  target: string;
  /** The resource's name, when known apart from `target` (resource names may contain `/`). */
  resource?: string;
  deployment?: string | undefined;
  status?: number | undefined;
  ms: number;
  /** Why the next target was tried (`azure 429`, `upstream_timeout`, …); unset on success. */
  failover?: string | undefined;
}

/**
 * What one request did, filled in by each stage as it learns it: the one small interface through
 * which observation (the log line, metrics, the status page, traces, usage) is fed. It never decides.
 */
export interface RequestRecord {
  /** The operation table's id (`chat.completions`, `POST /v1/responses`, …). */
  operation?: string;
  /** The model name the client asked for. */
  model?: string;
  deployment?: string;
  azureRequestId?: string;
  /** The target (resource/deployment) that answered, with pools. */
  target?: string;
  /** Each upstream attempt; the failover loop lists them when there was more than one. */
  attempts?: AttemptRecord[];
  /** Why the proxy answered with an error of its own, if it did. */
  error?: string;
  /** The client's name from the configuration file, or `anonymous`. */
  client?: string;
  /** Milliseconds from the request to the first byte of the answer sent on. */
  firstByteMs?: number;
  /** Azure's token usage, when the answer carried one. */
  usage?: TokenUsage;
  /** The answer was an event stream. */
  stream?: boolean;
  /** The model Azure says answered (the answer's `model`), for traces. */
  responseModel?: string;
  /** `performance.now()` when the request arrived, for `firstByteMs`; not logged. */
  startedAt?: number;
  /** Forward mode: the request came inside a CONNECT tunnel or as an absolute-form request. */
  via?: "connect" | "absolute-form";
  /** Changes made to the request for the deployment's model, as in `x-azure-oai-proxy-adapted`. */
  adapted?: string;
  /** The API a chat request was sent over when not Chat Completions (`responses`, `anthropic-messages`). */
  upstreamApi?: string;
}

/**
 * Every upstream attempt of a record. The failover loop lists attempts only when there was more
 * than one; a single attempt is then described by the record's own target and status.
 */
export function attemptsOf(
  record: RequestRecord,
  status: number,
  durationMs: number,
): readonly AttemptRecord[] {
  if (record.attempts !== undefined && record.attempts.length > 0) return record.attempts;
  if (record.target === undefined) return [];
  return [{ target: record.target, deployment: record.deployment, status, ms: durationMs }];
}

/** Resource and deployment of an attempt, from its own fields or its `resource/deployment` id. */
export function targetParts(attempt: AttemptRecord): { resource: string; deployment: string } {
  if (attempt.resource !== undefined) {
    return { resource: attempt.resource, deployment: attempt.deployment ?? "" };
  }
  // Deployment names never contain "/", so the last one separates the two.
  const slash = attempt.target.lastIndexOf("/");
  if (slash < 0) return { resource: attempt.target, deployment: attempt.deployment ?? "" };
  return { resource: attempt.target.slice(0, slash), deployment: attempt.target.slice(slash + 1) };
}

/**
 * Writes exactly one line per request when its response closes, aborted ones included.
 * Only chosen fields are logged: never headers, so no key or token can reach the log.
 */
export function logWhenDone(
  logger: Logger,
  request: IncomingMessage,
  response: ServerResponse,
  entry: RequestRecord,
): void {
  const started = performance.now();
  entry.startedAt = started;
  response.once("close", () => {
    const status = response.statusCode;
    const { startedAt: _, ...fields } = entry;
    const line = {
      method: request.method,
      path: (request.url ?? "").split("?", 1)[0],
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      ...fields,
      // The line is written when the connection closes, often before the handler has noticed
      // (it may still be reading the body): a close before the answer is the client's.
      ...(response.writableFinished
        ? {}
        : { aborted: true, error: entry.error ?? "client closed the connection" }),
    };
    if (status >= 500) logger.error(line, "request");
    else if (status >= 400) logger.warn(line, "request");
    else logger.info(line, "request");
  });
}
