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
 * Parses the body once, to validate it and read `model`. The bytes themselves are forwarded,
 * so numbers, key order and whitespace reach Azure exactly as the client wrote them.
 */
export function readJsonBody(body: Buffer): JsonBodyFacts {
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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MODEL_KEY = Buffer.from('"model"');

/**
 * Returns the body with the top-level `model` string replaced and every other byte untouched.
 * Expects a body `readJsonBody` accepted. Returns the body unchanged when there is no such string.
 */
export function replaceJsonModel(body: Buffer, model: string): Buffer {
  const span = findTopLevelString(body, MODEL_KEY);
  if (span === undefined) return body;
  return Buffer.concat([
    body.subarray(0, span.start),
    Buffer.from(JSON.stringify(model)),
    body.subarray(span.end),
  ]);
}

/** Byte span (quotes included) of the last top-level string value under `key`. */
function findTopLevelString(body: Buffer, key: Buffer): { start: number; end: number } | undefined {
  let found: { start: number; end: number } | undefined;
  let i = skipSpace(body, 0);
  if (body[i] !== 0x7b) return undefined; // {
  i++;
  while (i < body.length) {
    i = skipSpace(body, i);
    if (body[i] === 0x7d) break; // }
    if (body[i] === 0x2c) {
      i++;
      continue;
    }
    const keyStart = i;
    const keyEnd = skipString(body, i);
    i = skipSpace(body, keyEnd);
    i++; // :
    i = skipSpace(body, i);
    const valueStart = i;
    const valueEnd = skipValue(body, i);
    if (
      body[valueStart] === QUOTE &&
      keyEnd - keyStart === key.length &&
      body.compare(key, 0, key.length, keyStart, keyEnd) === 0
    ) {
      found = { start: valueStart, end: valueEnd };
    }
    i = valueEnd;
  }
  return found;
}

function skipSpace(body: Buffer, i: number): number {
  while (i < body.length) {
    const c = body[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** From an opening quote to just past the closing one. */
function skipString(body: Buffer, i: number): number {
  i++;
  while (i < body.length) {
    const c = body[i];
    if (c === BACKSLASH) i += 2;
    else if (c === QUOTE) return i + 1;
    else i++;
  }
  return i;
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
