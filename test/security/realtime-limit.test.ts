import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import WebSocket, { WebSocketServer } from "ws";
import { type ConfigError, readConfig } from "../../src/config/env.ts";
import { startTestProxy, type TestProxy } from "./harness.ts";

const LIMIT = 64 * 1024;

/** A realtime upstream that echoes text messages and sends `size` bytes when asked with "big:<size>". */
async function startEchoUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, maxPayload: 1024 * 1024 * 1024 });
  wss.on("connection", (socket) => {
    socket.on("error", () => {});
    socket.on("message", (data) => {
      const text = String(data);
      if (text.startsWith("big:")) socket.send("x".repeat(Number(text.slice(4))));
      else socket.send(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("realtime message size", () => {
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let proxy: TestProxy;
  before(async () => {
    upstream = await startEchoUpstream();
    proxy = await startTestProxy({
      AZURE_OPENAI_ENDPOINT: upstream.url,
      AZURE_OPENAI_API_KEY: "k",
      AZURE_OPENAI_MODEL_MAPPER: "gpt-4o-realtime-preview=rt",
      AZURE_OPENAI_PROXY_REALTIME_MAX_MESSAGE: "64kb",
    });
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  const session = async () => {
    const ws = new WebSocket(
      `${proxy.url.replace("http", "ws")}/v1/realtime?model=gpt-4o-realtime-preview`,
      { maxPayload: 1024 * 1024 * 1024 },
    );
    ws.on("error", () => {});
    const messages: string[] = [];
    ws.on("message", (data) => messages.push(String(data)));
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("unexpected-response", (_q, r) => reject(new Error(`refused ${r.statusCode}`)));
    });
    return { ws, messages, closed };
  };

  it("relays messages under the limit both ways", { timeout: 10_000 }, async () => {
    const { ws, messages } = await session();
    ws.send(`big:${LIMIT - 1024}`);
    const deadline = Date.now() + 2000;
    while (messages.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(messages[0]?.length, LIMIT - 1024);
    ws.close();
  });

  it("closes a session whose client sends a message over the limit (1009)", {
    timeout: 10_000,
  }, async () => {
    const { ws, closed } = await session();
    ws.send("y".repeat(LIMIT + 1));
    assert.equal(await closed, 1009);
  });

  it("closes a session whose upstream sends a message over the limit (1009)", {
    timeout: 10_000,
  }, async () => {
    const { ws, closed, messages } = await session();
    ws.send(`big:${LIMIT * 4}`);
    assert.equal(await closed, 1009);
    assert.equal(messages.length, 0, "the oversized message never reached the client");
  });
});

describe("AZURE_OPENAI_PROXY_REALTIME_MAX_MESSAGE", () => {
  const base = { AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com" };
  it("defaults to 16 MiB", () => {
    assert.equal(readConfig(base).realtimeMaxMessage, 16 * 1024 * 1024);
  });
  it("takes a size", () => {
    const config = readConfig({ ...base, AZURE_OPENAI_PROXY_REALTIME_MAX_MESSAGE: "4mb" });
    assert.equal(config.realtimeMaxMessage, 4 * 1024 * 1024);
  });
  it("refuses a value that is not a size, naming the setting", () => {
    assert.throws(
      () => readConfig({ ...base, AZURE_OPENAI_PROXY_REALTIME_MAX_MESSAGE: "lots" }),
      (e: ConfigError) =>
        e.problems.some((p) => p.startsWith("AZURE_OPENAI_PROXY_REALTIME_MAX_MESSAGE")),
    );
  });
});
