import { once } from "node:events";
import { createReadStream } from "node:fs";
import type { ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { AzureError } from "./errors.ts";

/** What the emulator sends back, built by pure code and written by {@link sendReply}. */
export type Reply =
  | { kind: "json"; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: "text"; contentType: string; body: string }
  /** Server-sent events, each already formatted (`data: …\n\n`), written one by one. */
  | { kind: "sse"; events: string[] }
  /** A binary body written in chunks, like Azure's chunked audio. */
  | { kind: "binary"; contentType: string; chunks: Buffer[] }
  /** A status without a body (e.g. 204). */
  | { kind: "empty"; status: number }
  /** A file on disk, streamed back as it is read. */
  | { kind: "file"; path: string; size: number; contentType: string };

export function errorReply(error: AzureError): Reply {
  return { kind: "json", status: error.status, body: error.body, headers: error.headers };
}

export interface SendOptions {
  /** Pause between paced chunks (SSE events, audio chunks). */
  chunkDelayMs: number;
  /** Aborted when the client goes away: writing stops at once. */
  signal: AbortSignal;
  /** For reset-mid-stream: called after a few chunks instead of finishing the answer. */
  cut?: () => void;
}

interface WirePlan {
  status: number;
  headers: Record<string, string>;
  chunks: Buffer[];
  paced: boolean;
}

/** How many chunks reset-mid-stream lets through before cutting the connection. */
const CHUNKS_BEFORE_CUT = 3;

function wirePlan(reply: Exclude<Reply, { kind: "file" }>, cutting: boolean): WirePlan {
  switch (reply.kind) {
    case "empty":
      return { status: reply.status, headers: {}, chunks: [], paced: false };
    case "json":
    case "text": {
      const isJson = reply.kind === "json";
      const body = Buffer.from(isJson ? JSON.stringify(reply.body) : reply.body);
      const headers = {
        ...(isJson ? reply.headers : undefined),
        "content-type": isJson ? "application/json" : reply.contentType,
        "content-length": String(body.length),
      };
      // Cut a whole body in half so the client sees a truncated answer, not an empty one.
      const half = Math.floor(body.length / 2);
      const chunks = cutting ? [body.subarray(0, half), body.subarray(half)] : [body];
      return { status: isJson ? reply.status : 200, headers, chunks, paced: false };
    }
    case "sse":
      return {
        status: 200,
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
        },
        chunks: reply.events.map((e) => Buffer.from(e)),
        paced: true,
      };
    case "binary":
      return {
        status: 200,
        headers: { "content-type": reply.contentType },
        chunks: reply.chunks,
        paced: true,
      };
  }
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

function abortion(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/**
 * Writes a reply chunk by chunk, pausing between paced chunks so clients really receive a
 * stream. Stops writing as soon as the client goes away.
 */
export async function sendReply(
  res: ServerResponse,
  reply: Reply,
  options: SendOptions,
): Promise<void> {
  const { signal, cut } = options;
  if (reply.kind === "file") return sendFile(res, reply, signal);
  const plan = wirePlan(reply, cut !== undefined);
  const cutAt =
    cut === undefined
      ? Number.POSITIVE_INFINITY
      : Math.min(
          reply.kind === "json" || reply.kind === "text" ? 1 : CHUNKS_BEFORE_CUT,
          plan.chunks.length - 1,
        );
  if (signal.aborted) return;
  res.writeHead(plan.status, plan.headers);

  let flushed: Promise<void> = Promise.resolve();
  for (const [index, chunk] of plan.chunks.entries()) {
    if (index === cutAt) {
      // Let what was written reach the client first, or the cut would swallow it.
      await Promise.race([flushed, abortion(signal)]);
      cut?.();
      return;
    }
    if (index > 0 && plan.paced) await pause(options.chunkDelayMs, signal);
    if (signal.aborted) return;
    let drained = true;
    flushed = new Promise((resolve) => {
      drained = res.write(chunk, () => resolve());
    });
    if (!drained) {
      await once(res, "drain", { signal }).catch(() => undefined);
      if (signal.aborted) return;
    }
  }
  res.end();
}

async function sendFile(
  res: ServerResponse,
  reply: Extract<Reply, { kind: "file" }>,
  signal: AbortSignal,
): Promise<void> {
  if (signal.aborted) return;
  res.writeHead(200, { "content-type": reply.contentType, "content-length": String(reply.size) });
  // Backpressure comes with the pipeline; the client leaving aborts the read.
  await pipeline(createReadStream(reply.path), res, { signal }).catch(() => {
    if (!res.destroyed) res.destroy();
  });
}
