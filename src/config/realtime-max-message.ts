import { parseSize } from "./env.ts";

/** The setting's name, for messages and documentation. */
export const REALTIME_MAX_MESSAGE_SETTING = "AZURE_OPENAI_PROXY_REALTIME_MAX_MESSAGE";

/**
 * Largest realtime WebSocket message accepted from either side. `ws` allows 100 MiB by default:
 * four sessions sending one 99 MB frame each took the proxy from 105 to 918 MB RSS. 16 MiB holds
 * minutes of base64 PCM16 audio in one `input_audio_buffer.append`.
 */
export const DEFAULT_REALTIME_MAX_MESSAGE = 16 * 1024 * 1024;

/** AZURE_OPENAI_PROXY_REALTIME_MAX_MESSAGE: bytes, or a size with kb/mb (e.g. 16mb). */
export function readRealtimeMaxMessage(raw: string | undefined, problems: string[]): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_REALTIME_MAX_MESSAGE;
  const bytes = parseSize(REALTIME_MAX_MESSAGE_SETTING, raw, problems);
  if (bytes < 1024 && !problems.some((p) => p.startsWith(REALTIME_MAX_MESSAGE_SETTING))) {
    problems.push(`${REALTIME_MAX_MESSAGE_SETTING}: must be at least 1kb, got "${raw.trim()}"`);
  }
  return bytes;
}
