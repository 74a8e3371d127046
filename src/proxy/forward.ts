import { once } from "node:events";
import type { Readable } from "node:stream";
import type { FastifyReply } from "fastify";
import type { Agent } from "undici";
import { ProxyError } from "../openai/errors.ts";
import type { StreamAdapter } from "../openai/operations.ts";
import type { RequestLog } from "../server/request-log.ts";
import { translateAzureError } from "./azure-errors.ts";
import { AzureArtefactFilter, sseErrorEvent } from "./sse.ts";
import { midStreamFailure, upstreamFailure } from "./upstream.ts";

export interface UpstreamRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer | Readable | undefined;
}

export interface RelayOptions {
  /** How an SSE answer is adapted; undefined passes every byte. */
  readonly stream: StreamAdapter | undefined;
  readonly keepAzureStreamArtefacts: boolean;
}

/** Response headers that belong to one hop, or that the proxy recomputes. */
const HOP_HEADERS = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "proxy-connection",
  "trailer",
  "upgrade",
  "te",
]);

const MAX_ERROR_BODY = 1024 * 1024;

/**
 * Sends one request to Azure and relays the answer. Bodies flow through as they arrive; a client
 * that goes away aborts the upstream request at once. Failures before the answer starts throw a
 * ProxyError (answered by the server's error handler); failures after it end the stream cleanly,
 * with an error event when it is SSE.
 */
export async function forward(
  agent: Agent,
  upstream: UpstreamRequest,
  reply: FastifyReply,
  options: RelayOptions,
  log: RequestLog,
): Promise<void> {
  const res = reply.raw;
  const controller = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) controller.abort();
  };
  res.once("close", onClose);

  const url = new URL(upstream.url);
  let response: Awaited<ReturnType<Agent["request"]>>;
  try {
    response = await agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: upstream.method as "GET",
      headers: upstream.headers,
      body: upstream.body ?? null,
      signal: controller.signal,
    });
  } catch (error) {
    res.off("close", onClose);
    if (controller.signal.aborted) {
      log.error = "client closed the connection";
      reply.hijack();
      return;
    }
    const own = findProxyError(error);
    if (own) throw own;
    throw upstreamFailure(error);
  }

  const headers = response.headers;
  const requestId = headers["apim-request-id"] ?? headers["x-request-id"];
  if (typeof requestId === "string") log.azureRequestId = requestId;

  if (response.statusCode >= 400) {
    res.off("close", onClose);
    const body = await readLimited(response.body, MAX_ERROR_BODY).catch(() => Buffer.alloc(0));
    const translated = translateAzureError(response.statusCode, body);
    log.error = translated.error.code ?? undefined;
    reply.code(response.statusCode);
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined || HOP_HEADERS.has(name) || name.startsWith("content-")) continue;
      reply.header(name, value);
    }
    await reply.send(translated);
    return;
  }

  reply.hijack();
  const contentType = String(headers["content-type"] ?? "");
  const isSse = contentType.startsWith("text/event-stream");
  const filter =
    isSse && options.stream === "chat" && !options.keepAzureStreamArtefacts
      ? new AzureArtefactFilter()
      : undefined;
  const outHeaders: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_HEADERS.has(name)) continue;
    if (filter !== undefined && name === "content-length") continue;
    outHeaders[name] = value;
  }
  if (isSse) {
    outHeaders["x-accel-buffering"] = "no";
    outHeaders["cache-control"] ??= "no-cache";
  }
  res.writeHead(response.statusCode, outHeaders);
  if (isSse) res.flushHeaders();

  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      const out = filter ? filter.push(chunk) : chunk;
      if (out !== undefined && !res.write(out)) {
        await Promise.race([once(res, "drain"), once(res, "close")]);
        if (res.destroyed) break;
      }
    }
    if (!res.destroyed) res.end(filter?.flush());
  } catch (error) {
    if (controller.signal.aborted || res.destroyed) {
      log.error = "client closed the connection";
      return;
    }
    const failure = midStreamFailure(error);
    log.error = failure.code ?? "upstream_error";
    if (isSse) res.end(sseErrorEvent(failure.toBody()));
    else res.destroy();
  } finally {
    res.off("close", onClose);
  }
}

/** A ProxyError raised by the request body (an upload over the limit), however undici wrapped it. */
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
