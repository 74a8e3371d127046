/**
 * Reads server-sent events from bytes that arrive split anywhere (inside a line, inside a UTF-8
 * character). Events are cut on bytes first and decoded whole, so a multi-byte character split
 * across two network chunks is never mangled.
 */

/** One event: its `event:` name (if any) and its joined `data:` lines. */
export interface SseEvent {
  readonly event: string | undefined;
  readonly data: string;
}

const LF = 0x0a;
const CR = 0x0d;

export class SseEventReader {
  private pending: Buffer | undefined;

  /** Takes the next bytes; returns the events they complete, in order. */
  push(chunk: Buffer): SseEvent[] {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    const events: SseEvent[] = [];
    let start = 0;
    while (start < data.length) {
      const end = eventEnd(data, start);
      if (end === -1) break;
      const event = parseEvent(data.toString("utf8", start, end));
      if (event !== undefined) events.push(event);
      start = end;
    }
    if (start < data.length) this.pending = Buffer.from(data.subarray(start));
    return events;
  }

  /** The last event when the stream ends without its blank line. */
  end(): SseEvent[] {
    const rest = this.pending;
    this.pending = undefined;
    if (rest === undefined) return [];
    const event = parseEvent(rest.toString("utf8"));
    return event === undefined ? [] : [event];
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

function parseEvent(text: string): SseEvent | undefined {
  let event: string | undefined;
  let data: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith("data:")) {
      const value = line.charCodeAt(5) === 0x20 ? line.slice(6) : line.slice(5);
      data = data === undefined ? value : `${data}\n${value}`;
    } else if (line.startsWith("event:")) {
      event = line.slice(line.charCodeAt(6) === 0x20 ? 7 : 6);
    }
  }
  // Comments (": keep-alive") and events without data carry nothing to translate.
  return data === undefined ? undefined : { event, data };
}

/** One `data:` event in the bytes a client reads. */
export function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

export const SSE_DONE = "data: [DONE]\n\n";
