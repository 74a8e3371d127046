import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import type { Agent } from "undici";
import { ProxyError, upstreamTimeout } from "../openai/errors.ts";
import { upstreamFailure } from "./upstream.ts";

export interface UpstreamRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer | Readable | undefined;
}

/** What one attempt came to, decided before any byte reached the client. */
export type Outcome =
  /** Azure answered and the first bytes of the body are in: this answer goes to the client. */
  | {
      readonly kind: "answer";
      readonly status: number;
      readonly headers: IncomingHttpHeaders;
      readonly first: Buffer | undefined;
      readonly rest: AsyncIterator<Buffer>;
      readonly firstByteMs: number;
    }
  /** Azure answered with an error; its (bounded) body is read. */
  | {
      readonly kind: "azure-error";
      readonly status: number;
      readonly headers: IncomingHttpHeaders;
      readonly body: Buffer;
      readonly firstByteMs: number;
    }
  /** No usable answer: connection error, timeout, or an answer cut before its first byte. */
  | { readonly kind: "failed"; readonly error: ProxyError; readonly retryable: boolean }
  /** The client went away. */
  | { readonly kind: "aborted" };

export interface CallOptions {
  /** Aborted when the client goes away or the request's total time is up. */
  readonly signal: AbortSignal;
  /** Which of the two it was. */
  readonly stopped: () => "client" | "deadline" | undefined;
  /** Until Azure's response headers. */
  readonly headersTimeoutMs: number;
  /** Between body chunks. */
  readonly bodyTimeoutMs: number;
}

/**
 * One attempt, as the failover loop sees it: retries, deadlines and failover compose around this
 * one function (tests inject their own).
 */
export type UpstreamCall = (request: UpstreamRequest, options: CallOptions) => Promise<Outcome>;

const MAX_ERROR_BODY = 1024 * 1024;

/**
 * One upstream call, up to the first byte of Azure's answer — the last moment another target
 * can still be tried. Never throws.
 */
export async function callUpstream(
  agent: Agent,
  request: UpstreamRequest,
  options: CallOptions,
): Promise<Outcome> {
  const started = performance.now();
  // Split by hand: the URL was built by the proxy, and a full parse per request showed in profiles.
  const pathStart = request.url.indexOf("/", request.url.indexOf("//") + 2);
  let response: Awaited<ReturnType<Agent["request"]>>;
  try {
    response = await agent.request({
      origin: pathStart === -1 ? request.url : request.url.slice(0, pathStart),
      path: pathStart === -1 ? "/" : request.url.slice(pathStart),
      method: request.method as "GET",
      headers: request.headers,
      body: request.body ?? null,
      signal: options.signal,
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
    });
  } catch (error) {
    return failure(error, options);
  }
  const firstByteMs = performance.now() - started;
  if (response.statusCode >= 400) {
    const body = await readLimited(response.body, MAX_ERROR_BODY).catch(() => Buffer.alloc(0));
    return {
      kind: "azure-error",
      status: response.statusCode,
      headers: response.headers,
      body,
      firstByteMs,
    };
  }
  const rest = (response.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  try {
    const first = await rest.next();
    return {
      kind: "answer",
      status: response.statusCode,
      headers: response.headers,
      first: first.done ? undefined : first.value,
      rest,
      firstByteMs: performance.now() - started,
    };
  } catch (error) {
    return failure(error, options);
  }
}

function failure(error: unknown, options: CallOptions): Outcome {
  const stopped = options.stopped();
  if (stopped === "client") return { kind: "aborted" };
  if (stopped === "deadline") {
    return { kind: "failed", error: upstreamTimeout("the total time allowed"), retryable: false };
  }
  const own = findProxyError(error);
  // The proxy's own error from the request body (an upload over the limit): not Azure's fault.
  if (own) return { kind: "failed", error: own, retryable: false };
  return { kind: "failed", error: upstreamFailure(error), retryable: true };
}

/** A ProxyError raised while sending the request body, however undici wrapped it. */
function findProxyError(error: unknown): ProxyError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    if (current instanceof ProxyError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

async function readLimited(body: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) break;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
