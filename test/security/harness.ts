import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
} from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { readConfig } from "../../src/config/env.ts";
import { createLogger, type RunningProxy, startProxy } from "../../src/server/start.ts";

/** What the fake upstream received. */
export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly bodySize: number;
  /** The request ended before its body did (the proxy aborted it). */
  readonly aborted: boolean;
}

export interface FakeUpstream {
  readonly url: string;
  readonly received: ReceivedRequest[];
  close(): Promise<void>;
}

export type UpstreamAnswer = (
  request: IncomingMessage,
  body: Buffer,
) => { status?: number; headers?: Record<string, string | string[]>; body?: string };

/**
 * A stand-in for Azure (or OpenAI) that records every request whole and answers as told: the
 * emulator is strict about Azure's shapes, these tests need an upstream that misbehaves.
 */
export async function startFakeUpstream(
  answer: UpstreamAnswer = () => ({ body: '{"ok":true}' }),
): Promise<FakeUpstream> {
  const received: ReceivedRequest[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= 1024 * 1024) chunks.push(c);
    });
    request.on("error", () => {});
    request.on("close", () => {
      if (request.complete) return;
      const { method = "", url = "", headers } = request;
      received.push({ method, url, headers, bodySize: size, aborted: true });
    });
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      received.push({
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        bodySize: size,
        aborted: false,
      });
      const { status = 200, headers = {}, body: text = "{}" } = answer(request, body);
      response.writeHead(status, { "content-type": "application/json", ...headers });
      response.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestProxy {
  readonly proxy: RunningProxy;
  readonly url: string;
  readonly port: number;
  readonly logs: string[];
  close(): Promise<void>;
}

/** The real proxy on loopback with the given settings (AZURE_OPENAI_PROXY_ADDRESS preset). */
export async function startTestProxy(env: Record<string, string>): Promise<TestProxy> {
  const logs: string[] = [];
  const fullEnv = { AZURE_OPENAI_PROXY_ADDRESS: "127.0.0.1:0", LOG_LEVEL: "info", ...env };
  const config = readConfig(fullEnv);
  const logger = createLogger(config.logLevel, { write: (line: string) => logs.push(line) });
  const proxy = await startProxy(config, { logger, env: fullEnv, watch: false });
  return {
    proxy,
    url: proxy.url,
    port: Number(new URL(proxy.url).port),
    logs,
    close: () => proxy.close(500),
  };
}

/** A raw HTTP answer: status line, headers (lower-cased names) and body as text. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly raw: string;
}

/**
 * Sends bytes exactly as given (no client normalises them) and reads until the server closes or
 * `waitMs` passes. Returns the first answer on the connection.
 */
export function rawRequest(
  port: number,
  bytes: string | Buffer,
  waitMs = 2000,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(chunks).toString("latin1")));
    };
    const timer = setTimeout(finish, waitMs);
    socket.on("data", (c: Buffer) => {
      chunks.push(c);
      if (answerComplete(Buffer.concat(chunks).toString("latin1"))) finish();
    });
    socket.on("end", finish);
    socket.on("error", (error) => {
      if (chunks.length > 0) finish();
      else reject(error);
    });
    socket.write(bytes);
  });
}

function answerComplete(text: string): boolean {
  const end = text.indexOf("\r\n\r\n");
  if (end === -1) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end));
  return length !== null && text.length - end - 4 >= Number(length[1]);
}

function parseAnswer(raw: string): RawAnswer {
  const end = raw.indexOf("\r\n\r\n");
  const head = end === -1 ? raw : raw.slice(0, end);
  const [statusLine = "", ...lines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  return { status, headers, body: end === -1 ? "" : raw.slice(end + 4), raw };
}

/** Log lines as objects. */
export function logLines(logs: readonly string[]): Record<string, unknown>[] {
  return logs.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}
