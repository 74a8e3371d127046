import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { connectionTokens } from "../azure/request.ts";
import type { RequestRecord } from "../observe/request-record.ts";
import { upstreamTimeout } from "../openai/errors.ts";
import type { StreamAdapter } from "../openai/operations.ts";
import { translateAzureError } from "./azure-errors.ts";
import { sendJson } from "./respond.ts";
import { AzureArtefactFilter, sseErrorEvent } from "./sse.ts";
import { StreamUsageFilter } from "./stream-usage.ts";
import { midStreamFailure } from "./upstream.ts";
import type { Outcome } from "./upstream-call.ts";
import { UsageTap } from "./usage.ts";

export interface RelayOptions {
  /** How an SSE answer is adapted; undefined passes every byte. */
  readonly stream: StreamAdapter | undefined;
  readonly keepAzureStreamArtefacts: boolean;
  /** Extra response headers (the opt-in target header, the client's x-ratelimit-*). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The proxy asked for stream usage the client did not: remove it from the answer. */
  readonly hideStreamUsage?: boolean;
}

/**
 * Upstream response headers the client never sees: those of one hop, and those that would override
 * the proxy's own decisions (its CORS answer, cookies for the proxy's origin, a proxy challenge).
 */
const DROPPED_RESPONSE_HEADERS = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "proxy-connection",
  "trailer",
  "upgrade",
  "te",
  "set-cookie",
  "set-cookie2",
  "proxy-authenticate",
  "proxy-authentication-info",
  "alt-svc",
  "strict-transport-security",
]);
const DROPPED_RESPONSE_PREFIXES = ["access-control-"];

/** The upstream headers the client may see, less `skip`. */
export function copyHeaders(
  from: IncomingHttpHeaders,
  skip: (name: string) => boolean,
): Record<string, string | string[]> {
  const hop = connectionTokens(from.connection);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(from)) {
    if (
      value === undefined ||
      DROPPED_RESPONSE_HEADERS.has(name) ||
      hop.has(name) ||
      DROPPED_RESPONSE_PREFIXES.some((prefix) => name.startsWith(prefix)) ||
      skip(name)
    )
      continue;
    out[name] = value;
  }
  return out;
}

/** Azure's `Vary` joins the proxy's own (`Vary: Origin` from CORS) instead of replacing it. */
function keepOwnVary(res: ServerResponse, headers: Record<string, string | string[]>): void {
  const own = res.getHeader("vary");
  const theirs = headers.vary;
  if (own === undefined || theirs === undefined) return;
  headers.vary = [...new Set([String(own), ...[theirs].flat()])].join(", ");
}

/** Azure's error answer, in OpenAI's shape, with Azure's status and useful headers. */
export function relayAzureError(
  outcome: Extract<Outcome, { kind: "azure-error" }>,
  res: ServerResponse,
  options: RelayOptions,
  log: RequestRecord,
): void {
  const translated = translateAzureError(outcome.status, outcome.body);
  log.error = translated.error.code ?? undefined;
  const headers = copyHeaders(outcome.headers, (name) => name.startsWith("content-"));
  keepOwnVary(res, headers);
  if (options.headers) Object.assign(headers, options.headers);
  sendJson(res, outcome.status, translated, headers);
}

/**
 * Sends Azure's answer on as it arrives: each chunk is written when it comes (SSE events once
 * complete, Azure-only chunks dropped for chat streams). A failure after the first byte ends the
 * answer: with an error event for SSE, by closing the connection otherwise.
 */
export async function relayAnswer(
  outcome: Extract<Outcome, { kind: "answer" }>,
  res: ServerResponse,
  options: RelayOptions,
  log: RequestRecord,
  stop: { stopped: () => "client" | "deadline" | undefined },
): Promise<void> {
  const contentType = String(outcome.headers["content-type"] ?? "");
  const isSse = contentType.startsWith("text/event-stream");
  const filter = sseFilter(isSse, options);
  // Usage is read from successful JSON and SSE answers, for limits, /usage and metrics.
  const tap =
    outcome.status < 300 && (isSse || contentType.startsWith("application/json"))
      ? new UsageTap(isSse ? "sse" : "json")
      : undefined;
  const headers = copyHeaders(
    outcome.headers,
    (name) => filter !== undefined && name === "content-length",
  );
  keepOwnVary(res, headers);
  if (options.headers) Object.assign(headers, options.headers);
  if (isSse) {
    headers["x-accel-buffering"] = "no";
    headers["cache-control"] ??= "no-cache";
  }
  res.writeHead(outcome.status, headers);
  log.stream = isSse;
  if (log.startedAt !== undefined) {
    log.firstByteMs = Math.round((performance.now() - log.startedAt) * 10) / 10;
  }

  const write = async (chunk: Buffer): Promise<void> => {
    tap?.push(chunk);
    const out = filter ? filter.push(chunk) : chunk;
    if (out !== undefined && !res.write(out)) await drainedOrClosed(res);
  };
  try {
    if (outcome.first !== undefined) await write(outcome.first);
    else if (isSse) res.flushHeaders();
    while (!res.destroyed) {
      const next = await outcome.rest.next();
      if (next.done) break;
      await write(next.value);
    }
    if (res.destroyed) {
      await outcome.rest.return?.();
      log.error = "client closed the connection";
      return;
    }
    log.usage = tap?.result();
    res.end(filter?.flush());
  } catch (error) {
    if (stop.stopped() === "client" || res.destroyed) {
      log.error = "client closed the connection";
      return;
    }
    const failure =
      stop.stopped() === "deadline"
        ? upstreamTimeout("the total time allowed")
        : midStreamFailure(error);
    log.error = failure.code ?? "upstream_error";
    if (isSse) res.end(sseErrorEvent(failure.toBody()));
    else res.destroy();
  }
}

/** The SSE adapters an answer goes through, composed; undefined sends every byte. */
function sseFilter(
  isSse: boolean,
  options: RelayOptions,
): { push(chunk: Buffer): Buffer | undefined; flush(): Buffer | undefined } | undefined {
  if (!isSse) return undefined;
  const artefacts =
    options.stream === "chat" && !options.keepAzureStreamArtefacts
      ? new AzureArtefactFilter()
      : undefined;
  const usage = options.hideStreamUsage ? new StreamUsageFilter() : undefined;
  if (usage === undefined) return artefacts;
  if (artefacts === undefined) return usage;
  return {
    push(chunk) {
      const kept = artefacts.push(chunk);
      return kept === undefined ? undefined : usage.push(kept);
    },
    flush() {
      const rest = artefacts.flush();
      const kept = rest === undefined ? undefined : usage.push(rest);
      const last = usage.flush();
      if (kept === undefined) return last;
      return last === undefined ? kept : Buffer.concat([kept, last]);
    },
  };
}

/** Waits until the client has taken what was written, or has gone; leaves no listener behind. */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
