/**
 * The Node floor: the least a Node proxy can do for the same job (node:http + undici, no
 * features). It rewrites two fixed routes to their Azure deployment paths, sets `api-key`,
 * streams bodies both ways and passes the answer through. Whatever azure-oai-proxy costs above
 * this is the price of its features.
 *
 *   UPSTREAM=http://127.0.0.1:PORT AZURE_KEY=… PORT=… node bench/node-floor.ts
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Agent } from "undici";
import {
  AZURE_CHAT_PATH,
  AZURE_TRANSCRIBE_PATH,
  OPENAI_CHAT_PATH,
  OPENAI_TRANSCRIBE_PATH,
} from "./lib/payloads.ts";

const upstream = process.env.UPSTREAM ?? "http://127.0.0.1:11438";
const key = process.env.AZURE_KEY ?? "";
const port = Number(process.env.PORT ?? 0);

const ROUTES = new Map([
  [OPENAI_CHAT_PATH, AZURE_CHAT_PATH],
  [OPENAI_TRANSCRIBE_PATH, AZURE_TRANSCRIBE_PATH],
]);
const DROP_REQUEST = new Set([
  "host",
  "connection",
  "keep-alive",
  "authorization",
  "transfer-encoding",
]);
const DROP_RESPONSE = new Set(["connection", "keep-alive", "transfer-encoding"]);

const agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 });

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = ROUTES.get(req.url ?? "");
  if (path === undefined) {
    req.resume();
    res.writeHead(req.url === "/healthz" ? 200 : 404).end();
    return;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !DROP_REQUEST.has(name))
      headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  headers["api-key"] = key;
  const abort = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  try {
    const answer = await agent.request({
      origin: upstream,
      path,
      method: "POST",
      headers,
      body: req,
      signal: abort.signal,
    });
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !DROP_RESPONSE.has(name)) out[name] = value;
    }
    res.writeHead(answer.statusCode, out);
    for await (const chunk of answer.body) {
      if (!res.write(chunk)) await once(res, "drain");
    }
    res.end();
  } catch {
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  }
}

const server = createServer(
  { keepAlive: true, requestTimeout: 0 },
  (req, res) => void handle(req, res),
);
server.keepAliveTimeout = 120_000;
server.listen({ host: "127.0.0.1", port }, () => {
  const address = server.address();
  const bound = typeof address === "object" && address !== null ? address.port : 0;
  process.stdout.write(`node floor listening on http://127.0.0.1:${bound}\n`);
});
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
