import { invalidJson, jsonBodyNotObject } from "../openai/errors.ts";

/** What the proxy needs from a JSON request body. */
export interface JsonBodyFacts {
  /** The top-level `model`, if it is a string. */
  readonly model: string | undefined;
  readonly hasModel: boolean;
  /** `stream: true`: the answer will be SSE, so its first byte is waited for on another clock. */
  readonly stream: boolean;
}

/**
 * Above this size a body is not parsed whole: the top level is scanned in place for `model` and
 * `stream`, so a 30 MB chat with images costs its own bytes and not three times them (a decoded
 * string plus the parsed objects). Azure still checks the rest of such a body.
 */
export const FULL_PARSE_LIMIT = 1024 * 1024;

/**
 * Reads `model` and `stream`. Small bodies are parsed once, which also validates them; the bytes
 * themselves are forwarded, so numbers, key order and whitespace reach Azure as the client wrote
 * them.
 */
export function readJsonBody(body: Buffer): JsonBodyFacts {
  if (body.length > FULL_PARSE_LIMIT) return scanJsonBody(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw invalidJson((error as Error).message);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw jsonBodyNotObject();
  }
  const { model, stream } = parsed as { model?: unknown; stream?: unknown };
  return {
    model: typeof model === "string" ? model : undefined,
    hasModel: model !== undefined,
    stream: stream === true,
  };
}

/** The same facts from the top level alone, for large bodies. */
function scanJsonBody(body: Buffer): JsonBodyFacts {
  const spans = topLevelSpans(body);
  if (spans === undefined) throw jsonBodyNotObject();
  const modelSpan = spans.get("model");
  let model: string | undefined;
  if (modelSpan !== undefined && body[modelSpan.start] === QUOTE) {
    try {
      model = JSON.parse(body.toString("utf8", modelSpan.start, modelSpan.end));
    } catch (error) {
      throw invalidJson((error as Error).message);
    }
  }
  const streamSpan = spans.get("stream");
  const stream =
    streamSpan !== undefined &&
    body.toString("latin1", streamSpan.start, streamSpan.end) === "true";
  return { model, hasModel: modelSpan !== undefined, stream };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Returns the body with the top-level `model` string replaced and every other byte untouched.
 * Expects a body `readJsonBody` accepted. Returns the body unchanged when there is no such string.
 */
export function replaceJsonModel(body: Buffer, model: string): Buffer {
  const span = topLevelSpans(body)?.get("model");
  if (span === undefined || body[span.start] !== QUOTE) return body;
  return Buffer.concat([
    body.subarray(0, span.start),
    Buffer.from(JSON.stringify(model)),
    body.subarray(span.end),
  ]);
}

const WANTED = new Map([
  ['"model"', "model"],
  ['"stream"', "stream"],
]);

/**
 * Byte spans of the values of the top-level keys the proxy reads (the last one wins, as with
 * JSON.parse); undefined when the body is not a JSON object.
 */
function topLevelSpans(body: Buffer): Map<string, { start: number; end: number }> | undefined {
  const found = new Map<string, { start: number; end: number }>();
  let i = skipSpace(body, 0);
  if (body[i] !== 0x7b) return undefined; // {
  i++;
  for (;;) {
    i = skipSpace(body, i);
    if (i >= body.length) return undefined; // unterminated
    if (body[i] === 0x7d) return found; // }
    if (body[i] === 0x2c) {
      i++;
      continue;
    }
    if (body[i] !== QUOTE) return undefined;
    const keyStart = i;
    const keyEnd = skipString(body, i);
    i = skipSpace(body, keyEnd);
    if (body[i] !== 0x3a) return undefined; // :
    i = skipSpace(body, i + 1);
    const valueStart = i;
    const valueEnd = skipValue(body, i);
    if (valueEnd <= valueStart) return undefined;
    if (keyEnd - keyStart <= 8) {
      const name = WANTED.get(body.toString("latin1", keyStart, keyEnd));
      if (name !== undefined) found.set(name, { start: valueStart, end: valueEnd });
    }
    i = valueEnd;
  }
}

function skipSpace(body: Buffer, i: number): number {
  while (i < body.length) {
    const c = body[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** From an opening quote to just past the closing one; indexOf keeps long strings fast. */
function skipString(body: Buffer, i: number): number {
  let from = i + 1;
  for (;;) {
    const quote = body.indexOf(QUOTE, from);
    if (quote === -1) return body.length;
    let backslashes = 0;
    for (let k = quote - 1; k > i && body[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** Past one JSON value of any kind. */
function skipValue(body: Buffer, i: number): number {
  const c = body[i];
  if (c === QUOTE) return skipString(body, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    while (i < body.length) {
      const d = body[i];
      if (d === QUOTE) {
        i = skipString(body, i);
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  while (i < body.length) {
    const d = body[i];
    if (
      d === 0x2c ||
      d === 0x7d ||
      d === 0x5d ||
      d === 0x20 ||
      d === 0x0a ||
      d === 0x0d ||
      d === 0x09
    )
      break;
    i++;
  }
  return i;
}
