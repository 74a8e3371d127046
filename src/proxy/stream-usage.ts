import { eventData, SseEventRewriter } from "./sse.ts";

const USAGE_NULL = Buffer.from('"usage":null');
const USAGE_OBJECT = /"usage"\s*:\s*\{/;

/**
 * When the proxy asked Azure for stream usage the client did not ask for
 * (`requestStreamUsage`), this removes what that added from the client's view: the usage-only
 * chunk (`choices: []` with `usage`), and the `"usage":null` field of the other chunks. Every
 * other event passes byte for byte, as soon as it is complete. Feed the usage tap Azure's bytes,
 * before this filter.
 */
export class StreamUsageFilter extends SseEventRewriter {
  constructor() {
    super(withoutAddedUsage);
  }
}

/**
 * One event without what `requestStreamUsage` added. undefined: keep the event as it is; empty:
 * drop it; otherwise the event to send instead.
 */
export function withoutAddedUsage(event: Buffer): Buffer | undefined {
  if (event.includes(USAGE_NULL)) return withoutUsageNull(event);
  if (!USAGE_OBJECT.test(event.toString("latin1"))) return undefined;
  const payload = eventData(event);
  if (payload === undefined) return undefined;
  let chunk: { choices?: unknown; usage?: unknown };
  try {
    chunk = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const usageOnly =
    Array.isArray(chunk.choices) && chunk.choices.length === 0 && chunk.usage != null;
  return usageOnly ? Buffer.alloc(0) : undefined;
}

/**
 * In valid JSON the bytes `"usage":null` can only be a key and its value (a quote inside a string
 * is escaped), so cutting them with one neighbouring comma keeps the chunk valid.
 */
function withoutUsageNull(event: Buffer): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  let at = event.indexOf(USAGE_NULL);
  while (at !== -1) {
    let cutStart = at;
    let cutEnd = at + USAGE_NULL.length;
    if (event[cutEnd] === 0x2c) cutEnd++;
    else if (event[cutStart - 1] === 0x2c) cutStart--;
    parts.push(event.subarray(from, cutStart));
    from = cutEnd;
    at = event.indexOf(USAGE_NULL, from);
  }
  parts.push(event.subarray(from));
  return Buffer.concat(parts);
}
