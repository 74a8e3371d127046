import { sseData } from "./sse-events.ts";

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
