import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";

/** What one request's log line says; stages fill it in as they learn it. */
export interface RequestLog {
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
}

/**
 * Writes exactly one line per request when its response closes, aborted ones included.
 * Only chosen fields are logged: never headers, so no key or token can reach the log.
 */
export function logWhenDone(
  logger: Logger,
  request: IncomingMessage,
  response: ServerResponse,
  entry: RequestLog,
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
      ...(response.writableFinished ? {} : { aborted: true }),
    };
    if (status >= 500) logger.error(line, "request");
    else if (status >= 400) logger.warn(line, "request");
    else logger.info(line, "request");
  });
}
