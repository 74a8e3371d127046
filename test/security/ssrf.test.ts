import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import {
  type FakeUpstream,
  rawRequest,
  startFakeUpstream,
  startTestProxy,
  type TestProxy,
} from "./harness.ts";

/**
 * In azure mode, nothing a client sends (model name, path, query, Host or forwarding headers)
 * may make the proxy call a host other than the configured resource. A second local server
 * stands for the host an attacker wants reached; it must see nothing.
 */
describe("SSRF in azure mode", () => {
  let azure: FakeUpstream;
  let evil: FakeUpstream;
  let proxy: TestProxy;
  let evilHost: string;
  before(async () => {
    azure = await startFakeUpstream();
    evil = await startFakeUpstream();
    evilHost = new URL(evil.url).host;
    proxy = await startTestProxy({ AZURE_OPENAI_ENDPOINT: azure.url, AZURE_OPENAI_API_KEY: "k" });
  });
  after(async () => {
    await proxy.close();
    await azure.close();
    await evil.close();
  });

  const chat = (model: string, extraHeaders = "") => {
    const body = JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] });
    return `POST /v1/chat/completions HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extraHeaders}Connection: close\r\n\r\n${body}`;
  };
  const get = (path: string, host = "proxy") =>
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

  it("never lets a model name choose the host", async () => {
    for (const model of [
      () => evilHost,
      () => `@${evilHost}`,
      () => `x@${evilHost}`,
      () => `http://${evilHost}`,
      () => `//${evilHost}`,
      () => `${evilHost}#`,
      () => `a\r\nHost: ${evilHost}`,
    ]) {
      const answer = await rawRequest(proxy.port, chat(model()));
      assert.ok(answer.status > 0, `an answer for ${model()}`);
    }
    assert.equal(evil.received.length, 0);
  });

  it("never lets a path, query or header choose the host", async () => {
    for (const bytes of [
      get(`/v1/files/@${evilHost}`),
      get(`/v1/files/%40${evilHost.replace(":", "%3A")}`),
      get(`//${evilHost}/v1/models`),
      get(`/v1/@${evilHost}/x`),
      get(`/v1/files?api-version=1&x=@${evilHost}`),
      get("/v1/files", evilHost),
      get(`http://${evilHost}/v1/files`),
      chat("gpt-4o", `X-Forwarded-Host: ${evilHost}\r\nForwarded: host=${evilHost}\r\n`),
    ]) {
      const answer = await rawRequest(proxy.port, bytes);
      assert.ok(answer.status > 0, bytes.split("\r\n")[0]);
    }
    assert.equal(evil.received.length, 0);
    assert.ok(azure.received.length > 0, "the configured resource was called");
  });

  it("never lets a realtime model name choose the host", async () => {
    const socket = new WebSocket(
      `${proxy.url.replace("http", "ws")}/v1/realtime?model=${encodeURIComponent(`x@${evilHost}`)}`,
    );
    socket.on("error", () => {});
    await new Promise((resolve) => {
      socket.once("unexpected-response", resolve);
      socket.once("open", resolve);
      socket.once("close", resolve);
    });
    socket.terminate();
    assert.equal(evil.received.length, 0);
  });
});
