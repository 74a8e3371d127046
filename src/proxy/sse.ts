import { eventEnd } from "../adapters/sse-events.ts";

/**
 * Azure's chat and completion streams carry chunks that OpenAI never sends and strict OpenAI
 * clients choke on: a first chunk with empty `choices`, blank `id`/`model` and
 * `prompt_filter_results`, and annotation-only chunks holding `content_filter_offsets` without a
 * `delta`. This adapter drops those and passes every other event byte for byte, as soon as the
 * event is complete.
 */

const PROMPT_FILTER = Buffer.from("prompt_filter_results");
const FILTER_OFFSETS = Buffer.from("content_filter_offsets");

const DROP = Buffer.alloc(0);

/**
 * Passes an SSE stream on event by event, as soon as each is complete, letting `rewrite` keep an
 * event (undefined), drop it (an empty buffer) or replace it. Runs of kept events go on as the
 * bytes that came, not copied.
 */
export class SseEventRewriter {
  private pending: Buffer | undefined;
  private readonly rewrite: (event: Buffer) => Buffer | undefined;

  constructor(rewrite: (event: Buffer) => Buffer | undefined) {
    this.rewrite = rewrite;
  }

  /** Takes the next bytes from Azure; returns the complete events to send on, if any. */
  push(chunk: Buffer): Buffer | undefined {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    const out: Buffer[] = [];
    let kept = 0; // start of the run of untouched events not yet copied out
    let start = 0;
    while (start < data.length) {
      const end = eventEnd(data, start);
      if (end === -1) break;
      const replacement = this.rewrite(data.subarray(start, end));
      if (replacement !== undefined) {
        if (start > kept) out.push(data.subarray(kept, start));
        if (replacement.length > 0) out.push(replacement);
        kept = end;
      }
      start = end;
    }
    if (start < data.length) this.pending = Buffer.from(data.subarray(start));
    if (start > kept) out.push(data.subarray(kept, start));
    if (out.length === 0) return undefined;
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** Whatever is left when Azure ends the stream (an event without its blank line). */
  flush(): Buffer | undefined {
    const rest = this.pending;
    this.pending = undefined;
    if (rest === undefined) return undefined;
    const replacement = this.rewrite(rest);
    if (replacement === undefined) return rest;
    return replacement.length > 0 ? replacement : undefined;
  }
}

/** Drops Azure's artefact chunks (above) from a chat or completions stream. */
export class AzureArtefactFilter extends SseEventRewriter {
  constructor() {
    super((event) => (isArtefact(event) ? DROP : undefined));
  }
}

/** True for the Azure-only chunks described above; false for anything it cannot read. */
export function isArtefact(event: Buffer): boolean {
  const promptFilter = event.includes(PROMPT_FILTER);
  if (!promptFilter && !event.includes(FILTER_OFFSETS)) return false;
  const payload = eventData(event);
  if (payload === undefined) return false;
  let chunk: { choices?: unknown; usage?: unknown };
  try {
    chunk = JSON.parse(payload);
  } catch {
    return false;
  }
  if (!Array.isArray(chunk.choices)) return false;
  if (chunk.choices.length === 0) return promptFilter && chunk.usage == null;
  return chunk.choices.every(
    (choice: Record<string, unknown>) =>
      choice !== null &&
      typeof choice === "object" &&
      "content_filter_offsets" in choice &&
      !("delta" in choice) &&
      !("text" in choice) &&
      choice.finish_reason == null,
  );
}

/** The joined `data:` lines of one event. */
export function eventData(event: Buffer): string | undefined {
  let data: string | undefined;
  for (const line of event.toString("utf8").split(/\r?\n/)) {
    if (!line.startsWith("data:")) continue;
    const value = line.charCodeAt(5) === 0x20 ? line.slice(6) : line.slice(5);
    data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}

/** An SSE event carrying an OpenAI-shaped error, for failures after the stream has started. */
export function sseErrorEvent(body: unknown): Buffer {
  return Buffer.from(`data: ${JSON.stringify(body)}\n\n`);
}
