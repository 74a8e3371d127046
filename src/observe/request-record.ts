import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";

/** Token counts from Azure's `usage`. */
export interface TokenUsage {
  prompt: number;
  completion: number;
  reasoning: number;
  cached: number;
}

/**
 * What one request did, filled in by each stage as it learns it: the one small interface through
 * which observation (the log line, and later metrics, traces, usage) is fed. It never decides.
 */
export interface RequestRecord {
  operation?: string;
  model?: string;
  deployment?: string;
  azureRequestId?: string;
  /** The target (resource/deployment) that answered, with pools. */
  target?: string;
  /** Each upstream attempt: target, status, duration, and why it failed over. */
  attempts?: { target: string; status?: number; ms: number; failover?: string | undefined }[];
  /** Why the proxy answered with an error of its own, if it did. */
  error?: string;
  /** The client's name from the configuration file; unset for unnamed keys. */
  client?: string;
  /** Milliseconds from the request to the first byte of the answer sent on. */
  firstByteMs?: number;
  /** Azure's token usage, when the answer carried one. */
  usage?: TokenUsage;
  /** The answer was an event stream. */
  stream?: boolean;
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
  response.once("close", () => {
    const status = response.statusCode;
    const line = {
      method: request.method,
      path: (request.url ?? "").split("?", 1)[0],
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      ...entry,
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
