/**
 * A fast fake of Azure OpenAI for the benchmark: node:http, pre-serialised answers, no parsing.
 * Run as a child process (IPC): it sends `{type:"ready", port}`, answers `{type:"stats"}` with its
 * own CPU time and request counters so the orchestrator can show it is not the bottleneck.
 *
 *   GET  /openai/deployments?api-version=…              → a small listing (start-up discovery)
 *   POST /openai/deployments/{d}/chat/completions?…     → a ~1 KB chat.completion, or a stream
 *                                                        when `x-bench-stream: <chunks>;<ms>`
 *   POST /openai/deployments/{d}/audio/transcriptions?… → drains the upload, answers its length
 *   POST /openai/deployments/audio/transcriptions?…     → the same: the Go proxy sends uploads
 *                                                        without a deployment (real Azure: 404)
 *
 * FAKE_AZURE_MODE=half-429 answers every other POST 429 with `retry-after-ms` (bench/failover.ts);
 * the message `{type:"outage"}` closes the listener and cuts every connection at once.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import {
  AZURE_HEADERS,
  CHAT_ANSWER,
  contentEvent,
  DONE_EVENT,
  PROMPT_FILTER_EVENT,
  STREAM_HEADER,
} from "./lib/payloads.ts";

const JSON_HEADERS = {
  ...AZURE_HEADERS,
  "content-type": "application/json",
  "content-length": String(CHAT_ANSWER.length),
};
const SSE_HEADERS = { ...AZURE_HEADERS, "content-type": "text/event-stream; charset=utf-8" };
const LISTING = Buffer.from(
  JSON.stringify({
    data: [
      { id: "gpt-4o", model: "gpt-4o", object: "deployment", status: "succeeded", created_at: 1 },
      { id: "whisper", model: "whisper", object: "deployment", status: "succeeded", created_at: 1 },
    ],
    object: "list",
  }),
);
const NOT_FOUND = Buffer.from(
  JSON.stringify({ error: { code: "404", message: "Resource not found" } }),
);
const RATE_LIMITED = Buffer.from(
  JSON.stringify({ error: { code: "429", message: "Rate limit is exceeded." } }),
);
const HALF_429 = process.env.FAKE_AZURE_MODE === "half-429";
/** What follows `/openai/deployments/` when the Go proxy leaves the deployment out. */
const OPERATIONS = new Set(["chat/completions", "audio/transcriptions"]);
const UNAUTHORIZED = Buffer.from(
  JSON.stringify({
    error: { code: "401", message: "Access denied due to invalid subscription key." },
  }),
);

/** Content events per stream length, built on first use. */
const eventsCache = new Map<number, Buffer[]>();
function eventsFor(count: number): Buffer[] {
  let events = eventsCache.get(count);
  if (events === undefined) {
    events = Array.from({ length: count }, (_, i) => contentEvent(i + 1, count));
    eventsCache.set(count, events);
  }
  return events;
}

const stats = {
  requests: 0,
  chat: 0,
  streams: 0,
  uploads: 0,
  listings: 0,
  rejected: 0,
  rateLimited: 0,
  noDeployment: 0,
  bytesIn: 0,
  openStreams: 0,
  peakOpenStreams: 0,
};

function reply(res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(body.length),
  });
  res.end(body);
}

function stream(res: ServerResponse, spec: string): void {
  const sep = spec.indexOf(";");
  const count = Math.max(1, Number(spec.slice(0, sep)) || 1);
  const interval = Math.max(0, Number(spec.slice(sep + 1)) || 0);
  const events = eventsFor(count);
  stats.streams++;
  stats.openStreams++;
  if (stats.openStreams > stats.peakOpenStreams) stats.peakOpenStreams = stats.openStreams;
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    stats.openStreams--;
  };
  res.once("close", close);
  res.writeHead(200, SSE_HEADERS);
  res.write(PROMPT_FILTER_EVENT);
  const start = performance.now();
  let next = 0; // index into events; events.length means [DONE]
  const tick = () => {
    if (res.destroyed) {
      close();
      return;
    }
    if (next < events.length) {
      res.write(events[next] as Buffer);
      next++;
      setTimeout(tick, Math.max(0, start + (next + 1) * interval - performance.now()));
    } else {
      res.end(DONE_EVENT);
      close();
    }
  };
  setTimeout(tick, interval);
}

/** POSTs answered so far (half-429 refuses every second one). */
let posts = 0;

function handle(req: IncomingMessage, res: ServerResponse): void {
  stats.requests++;
  const url = req.url ?? "/";
  if (req.method === "GET") {
    req.resume();
    if (url.startsWith("/openai/deployments?")) {
      stats.listings++;
      reply(res, 200, LISTING);
      return;
    }
    reply(res, 404, NOT_FOUND);
    return;
  }
  const q = url.indexOf("?api-version=");
  if (req.method !== "POST" || !url.startsWith("/openai/deployments/") || q === -1) {
    req.resume();
    stats.rejected++;
    reply(res, 404, NOT_FOUND);
    return;
  }
  if (req.headers["api-key"] === undefined) {
    req.resume();
    stats.rejected++;
    reply(res, 401, UNAUTHORIZED);
    return;
  }
  if (HALF_429 && ++posts % 2 === 0) {
    req.resume();
    stats.rateLimited++;
    res.writeHead(429, {
      "content-type": "application/json",
      "content-length": String(RATE_LIMITED.length),
      "retry-after-ms": "20",
      "retry-after": "1",
    });
    res.end(RATE_LIMITED);
    return;
  }
  const path = url.slice(20, q); // after /openai/deployments/
  const deploymentless = OPERATIONS.has(path);
  if (deploymentless) stats.noDeployment++;
  const op = deploymentless ? path : path.slice(path.indexOf("/") + 1);
  let bytes = 0;
  req.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
  });
  req.once("end", () => {
    stats.bytesIn += bytes;
    if (op === "chat/completions") {
      stats.chat++;
      const spec = req.headers[STREAM_HEADER];
      if (typeof spec === "string") {
        stream(res, spec);
        return;
      }
      res.writeHead(200, JSON_HEADERS);
      res.end(CHAT_ANSWER);
      return;
    }
    if (op === "audio/transcriptions") {
      stats.uploads++;
      reply(res, 200, Buffer.from(JSON.stringify({ text: "ok", bytes })));
      return;
    }
    stats.rejected++;
    reply(res, 404, NOT_FOUND);
  });
}

const server = createServer({ keepAlive: true, noDelay: true, requestTimeout: 0 }, handle);
const sockets = new Set<Socket>();
server.on("connection", (socket: Socket) => {
  sockets.add(socket);
  socket.once("close", () => sockets.delete(socket));
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 60_000;
server.maxHeadersCount = 0;
server.listen(
  { host: "127.0.0.1", port: Number(process.env.FAKE_AZURE_PORT ?? 0), backlog: 8192 },
  () => {
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    if (process.send) process.send({ type: "ready", port });
    else process.stdout.write(`fake Azure listening on http://127.0.0.1:${port}\n`);
  },
);

process.on("message", (message: { type?: string }) => {
  if (message.type === "stats") {
    const cpu = process.cpuUsage();
    process.send?.({
      type: "stats",
      ...stats,
      cpuMs: (cpu.user + cpu.system) / 1000,
      rss: process.memoryUsage.rss(),
    });
  } else if (message.type === "reset-peak") {
    stats.peakOpenStreams = stats.openStreams;
  } else if (message.type === "outage") {
    server.close();
    for (const socket of sockets) socket.destroy();
    process.send?.({ type: "outage" });
  }
});
// The orchestrator is gone: stop with it.
process.on("disconnect", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));
