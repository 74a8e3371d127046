import { Agent, errors as undiciErrors } from "undici";
import type { Config } from "../config/config.ts";
import {
  type ProxyError,
  upstreamInterrupted,
  upstreamTimeout,
  upstreamUnreachable,
} from "../openai/errors.ts";

/**
 * The one HTTP client for every upstream call: keep-alive pools per origin, no cap on
 * connections (the proxy must not limit concurrency Azure would accept), and the configured
 * connect / response-headers / idle-body timeouts.
 */
export function createUpstreamAgent(config: Config): Agent {
  return new Agent({
    connect: { timeout: config.timeouts.connectMs },
    headersTimeout: config.timeouts.responseMs,
    bodyTimeout: config.timeouts.idleMs,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
  });
}

/** The OpenAI-shaped error for an upstream failure. Messages carry codes, never credentials. */
export function upstreamFailure(error: unknown): ProxyError {
  if (error instanceof undiciErrors.ConnectTimeoutError) {
    return upstreamTimeout("connecting to Azure");
  }
  if (error instanceof undiciErrors.HeadersTimeoutError) {
    return upstreamTimeout("waiting for the response to start");
  }
  if (error instanceof undiciErrors.BodyTimeoutError) {
    return upstreamTimeout("waiting for the next part of the response");
  }
  const code = (error as { code?: string } | undefined)?.code;
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause?.code;
  return upstreamUnreachable(cause ?? code ?? "connection failed");
}

/** The error for a failure after the answer started: a timeout, or Azure cutting the stream. */
export function midStreamFailure(error: unknown): ProxyError {
  if (error instanceof undiciErrors.BodyTimeoutError) return upstreamFailure(error);
  const code = (error as { code?: string } | undefined)?.code;
  return upstreamInterrupted(code ?? "connection closed");
}
