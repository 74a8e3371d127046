import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { EMULATOR_KEY, type Stack, startStack } from "../helpers/stack.ts";

/** A raw connection to the proxy: what it was sent back, and when the proxy closed it. */
async function rawConnection(url: string) {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  await once(socket, "connect");
  let received = "";
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString();
  });
  socket.on("error", () => {});
  // Not events.once: it rejects on the EPIPE a write may meet once the proxy has closed.
  const closed = new Promise<number>((resolve) =>
    socket.once("close", () => resolve(performance.now())),
  );
  return { socket, closed, received: () => received };
}

/** Sends one byte at a time until the socket closes or `max` bytes went out. */
async function trickle(socket: Socket, everyMs: number, max: number): Promise<number> {
  let sent = 0;
  while (sent < max && !socket.destroyed && socket.writable) {
    socket.write("x");
    sent += 1;
    await sleep(everyMs);
  }
  return sent;
}

const head = (path: string, length: number, extra = "") =>
  `POST ${path} HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`;

describe("slow request bodies", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      env: {
        AZURE_OPENAI_PROXY_BODY_IDLE_TIMEOUT: "400ms",
        AZURE_OPENAI_PROXY_REQUEST_TIMEOUT: "1500ms",
      },
    });
  });
  after(() => stack.close());

  it("answers 408 in OpenAI's shape when a body stops arriving, and closes the connection", async () => {
    const conn = await rawConnection(stack.url);
    const started = performance.now();
    conn.socket.write(`${head("/v1/chat/completions", 100, `api-key: ${EMULATOR_KEY}\r\n`)}{"mo`);
    const closedAt = await conn.closed;
    assert.ok(closedAt - started < 5000, `closed after ${closedAt - started} ms`);
    assert.match(conn.received(), /^HTTP\/1\.1 408 /);
    const body = JSON.parse(conn.received().split("\r\n\r\n")[1] ?? "");
    assert.equal(body.error.code, "request_timeout");
    assert.equal(body.error.type, "invalid_request_error");
  });

  it("cuts a body that trickles in forever, within the whole-request limit", async () => {
    const conn = await rawConnection(stack.url);
    const started = performance.now();
    conn.socket.write(head("/v1/chat/completions", 1_000_000, `api-key: ${EMULATOR_KEY}\r\n`));
    // One byte every 100 ms never trips the idle timeout; only the whole-request limit can end it.
    const sent = await trickle(conn.socket, 100, 300);
    const closedAt = await conn.closed;
    assert.ok(sent < 100, `the proxy read ${sent} bytes before closing`);
    assert.ok(closedAt - started < 8000, `closed after ${closedAt - started} ms`);
  });
});

describe("early answers", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      env: { AZURE_OPENAI_PROXY_API_KEYS: "client-key", AZURE_OPENAI_API_KEY: EMULATOR_KEY },
    });
  });
  after(() => stack.close());

  it("closes the connection after refusing a key, instead of reading the rest of the body", async () => {
    const conn = await rawConnection(stack.url);
    const started = performance.now();
    conn.socket.write(head("/v1/chat/completions", 10_000_000, "api-key: wrong-key\r\n"));
    const sent = await trickle(conn.socket, 50, 400);
    const closedAt = await conn.closed;
    assert.match(conn.received(), /^HTTP\/1\.1 401 /);
    assert.match(conn.received(), /\r\nconnection: close\r\n/i);
    assert.ok(sent < 200, `kept reading for ${sent} bytes`);
    assert.ok(closedAt - started < 6000, `closed after ${closedAt - started} ms`);
  });

  it("closes the connection after refusing an oversized body by its declared length", async () => {
    const conn = await rawConnection(stack.url);
    conn.socket.write(
      head("/v1/chat/completions", 500 * 1024 * 1024, "authorization: Bearer client-key\r\n"),
    );
    const sent = await trickle(conn.socket, 50, 400);
    await conn.closed;
    assert.match(conn.received(), /^HTTP\/1\.1 413 /);
    assert.ok(sent < 200, `kept reading for ${sent} bytes`);
  });
});
