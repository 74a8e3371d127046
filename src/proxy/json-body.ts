import { duplicateModel, invalidJson, jsonBodyNotObject } from "../openai/errors.ts";

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
  // JSON.parse keeps the last of duplicate keys without a word. A second `model` needs either the
  // literal key twice or a \u escape (no other escape spells a letter of it): only then is the
  // top level scanned, which refuses the duplicate.
  const literal = body.indexOf(MODEL_KEY);
  if (
    (literal !== -1 && body.indexOf(MODEL_KEY, literal + 1) !== -1) ||
    body.includes(UNICODE_ESCAPE)
  ) {
    topLevelSpans(body);
  }
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

const MODEL_KEY = Buffer.from('"model"');
const UNICODE_ESCAPE = Buffer.from("\\u");

/**
 * The same facts from the top level alone, for large bodies. Keys are compared after their
 * escapes are decoded, as JSON.parse (and Azure) read them; a second `model` is refused.
 */
export function scanJsonBody(body: Buffer): JsonBodyFacts {
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

/**
 * For a streamed chat or completion request: the body with `stream_options.include_usage` turned
 * on, so Azure reports the tokens (limits are charged with them), or undefined when the client
 * asked for usage itself. Every other byte is untouched. The caller then removes the usage chunk
 * from the answer (`StreamUsageFilter`), so the client gets exactly what it asked for.
 */
export function requestStreamUsage(body: Buffer): Buffer | undefined {
  const spans = topLevelSpans(body);
  if (spans === undefined) return undefined;
  const span = spans.get("stream_options");
  if (span === undefined) {
    // Right after the opening brace, so no other key's bytes move.
    const open = body.indexOf(0x7b);
    const empty = body[skipSpace(body, open + 1)] === 0x7d;
    return Buffer.concat([
      body.subarray(0, open + 1),
      Buffer.from(`"stream_options":{"include_usage":true}${empty ? "" : ","}`),
      body.subarray(open + 1),
    ]);
  }
  let options: unknown;
  try {
    options = JSON.parse(body.toString("utf8", span.start, span.end));
  } catch {
    return undefined;
  }
  if (options === null) options = {};
  if (typeof options !== "object" || Array.isArray(options)) return undefined; // Azure will say why
  const record = options as Record<string, unknown>;
  if (record.include_usage === true) return undefined;
  return Buffer.concat([
    body.subarray(0, span.start),
    Buffer.from(JSON.stringify({ ...record, include_usage: true })),
    body.subarray(span.end),
  ]);
}

const WANTED = new Map([
  ['"model"', "model"],
  ['"stream"', "stream"],
  ['"stream_options"', "stream_options"],
]);
/** The longest key in WANTED, quotes included: longer keys are skipped without a lookup. */
const LONGEST_WANTED = 16;

/** `"stream_options"` with every letter as a \uXXXX escape: no longer key can decode to a wanted one. */
const LONGEST_ESCAPED_KEY = 2 + 6 * 14;

/** A wanted key's name, its escapes decoded; undefined for any other key. */
function wantedKey(body: Buffer, start: number, end: number): string | undefined {
  const length = end - start;
  if (length <= LONGEST_WANTED) {
    const name = WANTED.get(body.toString("latin1", start, end));
    if (name !== undefined) return name;
  }
  if (length > LONGEST_ESCAPED_KEY) return undefined;
  const backslash = body.indexOf(BACKSLASH, start);
  if (backslash === -1 || backslash >= end) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(body.toString("utf8", start, end));
  } catch (error) {
    throw invalidJson((error as Error).message);
  }
  return WANTED.get(JSON.stringify(decoded));
}

/**
 * Byte spans of the values of the top-level keys the proxy reads (the last `stream` wins, as with
 * JSON.parse; a second `model` is refused); undefined when the body is not a JSON object.
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
    const name = wantedKey(body, keyStart, keyEnd);
    if (name !== undefined) {
      if (name === "model" && found.has(name)) throw duplicateModel();
      found.set(name, { start: valueStart, end: valueEnd });
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
