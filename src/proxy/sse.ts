/**
 * Azure's chat and completion streams carry chunks that OpenAI never sends and strict OpenAI
 * clients choke on: a first chunk with empty `choices`, blank `id`/`model` and
 * `prompt_filter_results`, and annotation-only chunks holding `content_filter_offsets` without a
 * `delta`. This adapter drops those and passes every other event byte for byte, as soon as the
 * event is complete.
 */

const PROMPT_FILTER = Buffer.from("prompt_filter_results");
const FILTER_OFFSETS = Buffer.from("content_filter_offsets");
const LF = 0x0a;
const CR = 0x0d;

export class AzureArtefactFilter {
  private pending: Buffer | undefined;

  /** Takes the next bytes from Azure; returns the complete events to send on, if any. */
  push(chunk: Buffer): Buffer | undefined {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    const out: Buffer[] = [];
    let kept = 0; // start of the run of kept events not yet copied out
    let start = 0;
    while (start < data.length) {
      const end = eventEnd(data, start);
      if (end === -1) break;
      if (isArtefact(data.subarray(start, end))) {
        if (start > kept) out.push(data.subarray(kept, start));
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
    if (rest === undefined || isArtefact(rest)) return undefined;
    return rest;
  }
}

/** Index just past the blank line ending the event that starts at `start`, or -1. */
export function eventEnd(data: Buffer, start: number): number {
  let i = data.indexOf(LF, start);
  while (i !== -1) {
    const next = data[i + 1];
    if (next === LF) return i + 2;
    if (next === CR && data[i + 2] === LF) return i + 3;
    i = data.indexOf(LF, i + 1);
  }
  return -1;
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
