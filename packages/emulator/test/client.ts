/** Small HTTP helpers shared by the emulator tests. */
import type { Emulator } from "../src/index.ts";

export const KEY = "emulator-key";

// biome-ignore lint/suspicious/noExplicitAny: tests walk Azure's JSON freely and assert on every step.
export type Json = any;

/** A fetch Response whose json() is typed for free navigation in assertions. */
export type AzureResponse = Omit<Response, "json"> & { json(): Promise<Json> };

/** fetch, typed for the tests' JSON assertions. */
export function fetchAzure(url: string, init?: RequestInit): Promise<AzureResponse> {
  return fetch(url, init);
}
export const API_VERSION = "2024-10-21";

export function datedUrl(
  emulator: Emulator,
  deployment: string,
  op: string,
  apiVersion = API_VERSION,
) {
  return `${emulator.url}/openai/deployments/${encodeURIComponent(deployment)}/${op}?api-version=${apiVersion}`;
}

/** POSTs JSON to a dated-style operation with the default key. */
export function postDated(
  emulator: Emulator,
  deployment: string,
  op: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<AzureResponse> {
  return fetchAzure(datedUrl(emulator, deployment, op), {
    method: "POST",
    headers: { "api-key": KEY, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal,
  });
}

/** POSTs JSON to a v1-style operation with the default key as a bearer token. */
export function postV1(
  emulator: Emulator,
  op: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<AzureResponse> {
  return fetchAzure(`${emulator.url}/openai/v1/${op}`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

export function chatBody(text: string, extra: Record<string, unknown> = {}) {
  return { messages: [{ role: "user", content: text }], ...extra };
}

export interface TimedEvent {
  data: string;
  /** ms since the response headers arrived. */
  at: number;
  /** Which body read delivered it. */
  read: number;
}

/** Reads an SSE body event by event, noting when and in which read each event arrived. */
export async function readEvents(res: AzureResponse): Promise<TimedEvent[]> {
  const start = performance.now();
  const reader = res.body?.getReader();
  if (reader === undefined) throw new Error("response has no body");
  const decoder = new TextDecoder();
  const events: TimedEvent[] = [];
  let buffer = "";
  for (let read = 0; ; read++) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end !== -1) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!event.startsWith("data: ")) throw new Error(`not an SSE data event: ${event}`);
      events.push({ data: event.slice("data: ".length), at: performance.now() - start, read });
      end = buffer.indexOf("\n\n");
    }
  }
  if (buffer !== "") throw new Error(`stream ended inside an event: ${buffer}`);
  return events;
}

/** Parses every event but the final [DONE]. */
export function jsonEvents(events: TimedEvent[]): Json[] {
  return events.filter((e) => e.data !== "[DONE]").map((e) => JSON.parse(e.data));
}

export async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One deployment per model family Azure serves differently. */
export const FAMILY_DEPLOYMENTS = [
  { id: "gpt-4o", model: "gpt-4o" },
  { id: "codex", model: "gpt-5-codex" },
  { id: "o3-mini", model: "o3-mini" },
  { id: "deepseek", model: "DeepSeek-R1" },
  { id: "claude", model: "claude-sonnet-4-5" },
];
