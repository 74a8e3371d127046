import { isObject } from "./chat-types.ts";
import { SseEventReader, sseData } from "./sse-events.ts";

/**
 * Turns one upstream stream into Chat Completions chunks. Fed the upstream's raw bytes as they
 * arrive (split anywhere); returns the bytes to send the client, or undefined when a piece
 * completes nothing yet.
 */
export interface ChatStreamTranslator {
  push(chunk: Buffer): Buffer | undefined;
  /** Called when the upstream stream ends; says so with an error event if the answer was cut short. */
  end(): Buffer | undefined;
}

/** An OpenAI-shaped error event, the way OpenAI reports a failure after a stream has started. */
export function errorEvent(message: string, type: string, code: string | null): string {
  return sseData({ error: { message, type, param: null, code } });
}

export const streamCutShort = (api: string) =>
  errorEvent(
    `${api} ended the stream before the answer was complete.`,
    "server_error",
    "upstream_interrupted",
  );

export function joined(parts: string[]): Buffer | undefined {
  return parts.length === 0 ? undefined : Buffer.from(parts.join(""));
}

/**
 * The event loop both stream translators share: bytes in, one parsed JSON event at a time to
 * `onEvent`, chat chunks out; an upstream that ends before the answer is finished gets an error
 * event. A subclass sets `finished` once it has written `[DONE]`.
 */
export abstract class EventStreamToChat implements ChatStreamTranslator {
  private readonly reader = new SseEventReader();
  private readonly api: string;
  protected finished = false;

  constructor(api: string) {
    this.api = api;
  }

  push(chunk: Buffer): Buffer | undefined {
    const out: string[] = [];
    for (const event of this.reader.push(chunk)) this.translate(event.data, out);
    return joined(out);
  }

  end(): Buffer | undefined {
    const out: string[] = [];
    for (const event of this.reader.end()) this.translate(event.data, out);
    if (!this.finished) {
      this.finished = true;
      out.push(streamCutShort(this.api));
    }
    return joined(out);
  }

  private translate(data: string, out: string[]): void {
    if (this.finished) return;
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    if (isObject(event)) this.onEvent(event, out);
  }

  /** One upstream event; what it becomes is pushed to `out`. */
  protected abstract onEvent(event: Record<string, unknown>, out: string[]): void;
}
