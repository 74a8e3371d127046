import { eventEnd } from "../adapters/sse-events.ts";
import type { UsageTokens } from "../clients/charged-tokens.ts";
import { eventData } from "./sse.ts";

/**
 * Token usage read from Azure's answers as they pass, for limits, `/usage` and metrics. The tap
 * is fed the same chunks the client gets and never holds one back: it only looks.
 */

/** How the answer is framed: one JSON document, or Server-Sent Events. */
export type AnswerFraming = "json" | "sse";

/**
 * JSON answers up to this size are parsed whole. A bigger one (embeddings of many inputs) is not
 * copied or parsed: its `usage` comes after the data, among the last fields, so only its last
 * bytes are kept and the usage object is read from them (parsing a 1 MB answer costs
 * milliseconds per request).
 */
const JSON_TAIL = 64 * 1024;
const USAGE_KEY = Buffer.from('"usage"');
const LF = 0x0a;
const CR = 0x0d;

/**
 * Reads `usage` from an answer fed chunk by chunk: chat, completions, embeddings (prompt tokens)
 * and Responses JSON; Responses streams (`response.completed`, `.incomplete`, `.failed`); chat
 * and completions streams (the usage chunk of `stream_options.include_usage`).
 *
 * @example
 * const tap = new UsageTap("sse");
 * for await (const chunk of upstream) { tap.push(chunk); client.write(chunk); }
 * tap.result(); // { prompt: 12, completion: 30, reasoning: 0, cached: 0 } or undefined
 */
export class UsageTap {
  private readonly framing: AnswerFraming;
  private parts: Buffer[] = [];
  private size = 0;
  private tail = false;
  private pending: Buffer | undefined;
  private found: UsageTokens | undefined;

  constructor(framing: AnswerFraming) {
    this.framing = framing;
  }

  push(chunk: Buffer): void {
    if (this.framing === "json") this.pushJson(chunk);
    else this.pushSse(chunk);
  }

  /** The usage once the answer has ended; undefined when it carried none. */
  result(): UsageTokens | undefined {
    if (this.framing === "sse") {
      if (this.pending !== undefined) this.readEvent(this.pending);
      this.pending = undefined;
      return this.found;
    }
    const body = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
    this.parts = [];
    // Only the usage object is parsed, found from the end (where Azure puts it): parsing the
    // whole answer cost ~6 µs a request, the largest share of the proxy's own code (profiled).
    return usageTokens(lastUsageObject(body));
  }

  private pushJson(chunk: Buffer): void {
    this.parts.push(chunk);
    this.size += chunk.length;
    if (this.size > JSON_TAIL) this.tail = true;
    if (this.tail) {
      // Keep only what the tail needs; chunks are shared with the client, so copy nothing else.
      while (this.parts.length > 1 && this.size - (this.parts[0]?.length ?? 0) >= JSON_TAIL) {
        this.size -= this.parts.shift()?.length ?? 0;
      }
    }
  }

  private pushSse(chunk: Buffer): void {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let start = 0;
    while (start < data.length) {
      const end = eventEnd(data, start);
      if (end === -1) break;
      const event = data.subarray(start, end);
      if (hasUsageObject(event)) this.readEvent(event);
      start = end;
    }
    if (start < data.length) this.pending = Buffer.from(data.subarray(start));
  }

  private readEvent(event: Buffer): void {
    const payload = eventData(event);
    if (payload === undefined) return;
    let parsed: { usage?: unknown; type?: unknown; response?: { usage?: unknown } };
    try {
      parsed = JSON.parse(payload);
    } catch {
      return;
    }
    if (parsed === null || typeof parsed !== "object") return;
    const usage =
      typeof parsed.type === "string" && parsed.type.startsWith("response.")
        ? parsed.response?.usage
        : parsed.usage;
    const tokens = usageTokens(usage);
    if (tokens !== undefined) this.found = tokens;
  }
}

/**
 * Azure's usage object in either naming: chat/completions/embeddings (`prompt_tokens`,
 * `completion_tokens`) or Responses (`input_tokens`, `output_tokens`).
 */
export function usageTokens(raw: unknown): UsageTokens | undefined {
  if (raw === null || typeof raw !== "object") return undefined;
  const u = raw as Record<string, unknown>;
  const prompt = count(u.prompt_tokens) ?? count(u.input_tokens);
  const completion = count(u.completion_tokens) ?? count(u.output_tokens);
  if (prompt === undefined && completion === undefined) return undefined;
  const promptDetails = (u.prompt_tokens_details ?? u.input_tokens_details) as
    | Record<string, unknown>
    | null
    | undefined;
  const completionDetails = (u.completion_tokens_details ?? u.output_tokens_details) as
    | Record<string, unknown>
    | null
    | undefined;
  return {
    prompt: prompt ?? 0,
    completion: completion ?? 0,
    reasoning: count(completionDetails?.reasoning_tokens) ?? 0,
    cached: count(promptDetails?.cached_tokens) ?? 0,
  };
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** An event worth parsing: it names `usage` with an object value (not the `null` of other chunks). */
function hasUsageObject(event: Buffer): boolean {
  let from = 0;
  for (;;) {
    const at = event.indexOf(USAGE_KEY, from);
    if (at === -1) return false;
    let i = at + USAGE_KEY.length;
    while (event[i] === 0x20) i++;
    if (event[i] === 0x3a) {
      i++;
      while (event[i] === 0x20) i++;
      if (event[i] === 0x7b) return true;
    }
    from = at + 1;
  }
}

/** The last `"usage": {…}` object in a JSON tail, by brace matching (strings respected). */
function lastUsageObject(tail: Buffer): unknown {
  let at = tail.lastIndexOf(USAGE_KEY);
  while (at !== -1) {
    let i = at + USAGE_KEY.length;
    while (tail[i] === 0x20 || tail[i] === LF || tail[i] === CR || tail[i] === 0x09) i++;
    if (tail[i] === 0x3a) {
      i++;
      while (tail[i] === 0x20 || tail[i] === LF || tail[i] === CR || tail[i] === 0x09) i++;
      if (tail[i] === 0x7b) {
        const end = objectEnd(tail, i);
        if (end !== -1) {
          try {
            return JSON.parse(tail.toString("utf8", i, end));
          } catch {
            return undefined;
          }
        }
      }
    }
    at = at === 0 ? -1 : tail.lastIndexOf(USAGE_KEY, at - 1);
  }
  return undefined;
}

function objectEnd(body: Buffer, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b) depth++;
    else if (c === 0x7d && --depth === 0) return i + 1;
  }
  return -1;
}
