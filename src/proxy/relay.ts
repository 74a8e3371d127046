import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import type { ChatStreamTranslator } from "../adapters/chat-stream.ts";
import { connectionTokens } from "../azure/request.ts";
import type { RequestRecord } from "../observe/request-record.ts";
import { type OpenAIErrorBody, ProxyError, upstreamTimeout } from "../openai/errors.ts";
import type { StreamAdapter } from "../openai/operations.ts";
import { translateAzureError } from "./azure-errors.ts";
import { sendJson } from "./respond.ts";
import { isArtefact, SseEventRewriter, sseErrorEvent } from "./sse.ts";
import { withoutAddedUsage } from "./stream-usage.ts";
import { midStreamFailure } from "./upstream.ts";
import type { Outcome } from "./upstream-call.ts";
import { UsageTap, usageTokens } from "./usage.ts";

/** How an answer in another API's shape (Responses, Anthropic) is given to a chat client. */
export interface AnswerTranslation {
  /** The client's body for a 2xx JSON answer; may throw a ProxyError. */
  json(body: unknown): unknown;
  /** A translator for a streamed answer. */
  stream(): ChatStreamTranslator;
  /** The client's body for an error answer; undefined: Azure's usual error translation. */
  error(status: number, body: unknown): OpenAIErrorBody | undefined;
}

export interface RelayOptions {
  /** How an SSE answer is adapted; undefined passes every byte. */
  readonly stream: StreamAdapter | undefined;
  readonly keepAzureStreamArtefacts: boolean;
  /** Extra response headers (the opt-in target header, the adapted-parameters header). */
  readonly headers?: Record<string, string>;
  /** Set when the upstream speaks another API than the client. */
  readonly translation?: AnswerTranslation;
  /** Error answers go on as the upstream sent them (a native Anthropic client reads Anthropic's). */
  readonly rawErrors?: boolean;
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
  if (options.rawErrors === true) {
    const headers = copyHeaders(outcome.headers, (name) => name === "content-length");
    if (options.headers) Object.assign(headers, options.headers);
    log.error = `upstream ${outcome.status}`;
    res.writeHead(outcome.status, headers).end(outcome.body);
    return;
  }
  const translated =
    options.translation?.error(outcome.status, parsedJson(outcome.body)) ??
    translateAzureError(outcome.status, outcome.body);
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
  if (options.translation !== undefined) {
    const translation = options.translation;
    if (!isSse) return relayTranslatedJson(outcome, res, options, translation, log);
    return relayTranslatedStream(outcome, res, options, translation.stream(), log, stop);
  }
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
    endAfterFailure(error, res, isSse, log, stop);
  }
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

function parsedJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

/** A whole JSON answer of another API, read, translated and sent as one chat completion. */
async function relayTranslatedJson(
  outcome: Extract<Outcome, { kind: "answer" }>,
  res: ServerResponse,
  options: RelayOptions,
  translation: AnswerTranslation,
  log: RequestRecord,
): Promise<void> {
  const chunks: Buffer[] = outcome.first === undefined ? [] : [outcome.first];
  for (let next = await outcome.rest.next(); !next.done; next = await outcome.rest.next()) {
    chunks.push(next.value);
  }
  const headers = copyHeaders(outcome.headers, (name) => name.startsWith("content-"));
  keepOwnVary(res, headers);
  if (options.headers) Object.assign(headers, options.headers);
  let body: unknown;
  try {
    body = translation.json(parsedJson(Buffer.concat(chunks)));
  } catch (error) {
    if (!(error instanceof ProxyError)) throw error;
    log.error = error.code ?? undefined;
    sendJson(res, error.status, error.toBody(), headers);
    return;
  }
  log.usage = usageOf(body);
  sendJson(res, outcome.status, body, headers);
}

/** A stream of another API, translated event by event into chat chunks as it arrives. */
async function relayTranslatedStream(
  outcome: Extract<Outcome, { kind: "answer" }>,
  res: ServerResponse,
  options: RelayOptions,
  translator: ChatStreamTranslator,
  log: RequestRecord,
  stop: { stopped: () => "client" | "deadline" | undefined },
): Promise<void> {
  const headers = copyHeaders(outcome.headers, (name) => name.startsWith("content-"));
  keepOwnVary(res, headers);
  if (options.headers) Object.assign(headers, options.headers);
  headers["content-type"] = "text/event-stream; charset=utf-8";
  headers["x-accel-buffering"] = "no";
  headers["cache-control"] ??= "no-cache";
  res.writeHead(outcome.status, headers);
  // The chat chunks sent carry usage when the client asked for it (stream_options.include_usage).
  const tap = new UsageTap("sse");
  const write = async (out: Buffer | undefined): Promise<void> => {
    if (out === undefined) return;
    tap.push(out);
    if (!res.write(out)) await drainedOrClosed(res);
  };
  try {
    if (outcome.first !== undefined) await write(translator.push(outcome.first));
    else res.flushHeaders();
    while (!res.destroyed) {
      const next = await outcome.rest.next();
      if (next.done) break;
      await write(translator.push(next.value));
    }
    if (res.destroyed) {
      await outcome.rest.return?.();
      log.error = "client closed the connection";
      return;
    }
    const last = translator.end();
    if (last !== undefined) tap.push(last);
    log.usage = tap.result();
    res.end(last);
  } catch (error) {
    endAfterFailure(error, res, true, log, stop);
  }
}

const DROP = Buffer.alloc(0);

/** The SSE adapters an answer goes through, as one rewriter; undefined sends every byte. */
function sseFilter(isSse: boolean, options: RelayOptions): SseEventRewriter | undefined {
  if (!isSse) return undefined;
  const dropArtefacts = options.stream === "chat" && !options.keepAzureStreamArtefacts;
  const hideUsage = options.hideStreamUsage === true;
  if (!dropArtefacts && !hideUsage) return undefined;
  return new SseEventRewriter((event) => {
    if (dropArtefacts && isArtefact(event)) return DROP;
    return hideUsage ? withoutAddedUsage(event) : undefined;
  });
}

/** Token usage of a translated chat completion, read like Azure's own. */
function usageOf(body: unknown): RequestRecord["usage"] {
  return body !== null && typeof body === "object"
    ? usageTokens((body as { usage?: unknown }).usage)
    : undefined;
}

/**
 * An answer that broke after its first byte: nothing more is said to a client that left; an
 * event stream ends with an OpenAI-shaped error event; any other answer is cut.
 */
function endAfterFailure(
  error: unknown,
  res: ServerResponse,
  isSse: boolean,
  log: RequestRecord,
  stop: { stopped: () => "client" | "deadline" | undefined },
): void {
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
