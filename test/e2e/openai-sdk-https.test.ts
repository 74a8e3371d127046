/**
 * The proxy's own HTTPS and WSS, from PEM files made by a test CA: the official SDK's chat,
 * stream and `OpenAIRealtimeWS` (which always uses wss://), and a certificate replaced on disk
 * that the next connection gets while an open stream finishes on the old one.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { TLSSocket } from "node:tls";
import OpenAI from "openai";
import { OpenAIRealtimeWS } from "openai/realtime/ws";
import { Agent, fetch as undiciFetch } from "undici";
import { EMULATOR_KEY, type Stack, startPoolStack, startStack } from "../helpers/stack.ts";
import {
  issueCertificate,
  makeTestCa,
  type TestCa,
  type TestCertificate,
} from "../helpers/test-certificates.ts";
import { eventually } from "./sdk-harness.ts";

let ca: TestCa;
let first: TestCertificate;
let second: TestCertificate;
let live: { certFile: string; keyFile: string };
let stack: Stack;
let dispatcher: Agent;

/** The SDK trusting the test CA (what NODE_EXTRA_CA_CERTS does for a whole process). */
function sdk(): OpenAI {
  return new OpenAI({
    baseURL: `${stack.url}/v1`,
    apiKey: EMULATOR_KEY,
    maxRetries: 0,
    fetch: ((url: string, init: object) =>
      undiciFetch(url, { ...init, dispatcher })) as unknown as typeof fetch,
  });
}

/** The certificate a new connection to the proxy is given. */
function servedFingerprint(): Promise<string> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${stack.url}/healthz`);
    get(
      { host: url.hostname, port: url.port, path: url.pathname, ca: ca.pem, agent: false },
      (res) => {
        resolve((res.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256 ?? "");
        res.resume();
      },
    ).on("error", reject);
  });
}

describe("HTTPS and WSS on the proxy itself", () => {
  before(async () => {
    ca = makeTestCa();
    first = issueCertificate(ca);
    second = issueCertificate(ca);
    const dir = mkdtempSync(join(tmpdir(), "proxy-tls-"));
    live = { certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key") };
    copyFileSync(first.certFile, live.certFile);
    copyFileSync(first.keyFile, live.keyFile);
    stack = await startStack({
      env: {
        AZURE_OPENAI_API_KEY: EMULATOR_KEY,
        AZURE_OPENAI_PROXY_TLS_CERT: live.certFile,
        AZURE_OPENAI_PROXY_TLS_KEY: live.keyFile,
      },
    });
    dispatcher = new Agent({ connect: { ca: ca.pem } });
  });
  after(async () => {
    await dispatcher.close();
    await stack.close();
  });

  it("serves the API over https://", async () => {
    assert.match(stack.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const answer = await sdk().chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Hello" }],
    });
    assert.equal(answer.object, "chat.completion");
  });

  it("streams over https:// chunk by chunk", async () => {
    const stream = await sdk().chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Hello" }],
      stream: true,
    });
    let chunks = 0;
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) chunks += 1;
    assert.ok(chunks > 1);
  });

  it("lets the SDK's OpenAIRealtimeWS talk over wss://", async () => {
    const rt = new OpenAIRealtimeWS(
      { model: "gpt-4o-realtime-preview", options: { ca: ca.pem } },
      sdk(),
    );
    assert.equal(rt.url.protocol, "wss:");
    const events: { type: string }[] = [];
    rt.on("event", (event) => events.push(event));
    await new Promise<void>((resolve, reject) => {
      rt.socket.once("open", () => resolve());
      rt.socket.once("error", reject);
    });
    rt.send({
      type: "conversation.item.create",
      item: { type: "message", role: "user", content: [{ type: "input_text", text: "Hi" }] },
    });
    rt.send({ type: "response.create" });
    await eventually(() => events.find((e) => e.type === "response.done"), "response.done");
    const closed = new Promise<number>((resolve) => rt.socket.once("close", resolve));
    rt.close({ code: 1000, reason: "done" });
    assert.equal(await closed, 1000);
  });

  it("serves a certificate replaced on disk to the next connection while an open stream finishes", async () => {
    const certificate = stack.proxy.certificate;
    assert.ok(certificate !== undefined);
    const old = certificate.current.fingerprint256;
    assert.equal(await servedFingerprint(), old);

    const stream = await sdk().chat.completions.create(
      { model: "gpt-4o", messages: [{ role: "user", content: "Hello" }], stream: true },
      { headers: { "x-emulator-words": "40", "x-emulator-chunk-delay-ms": "25" } },
    );
    let text = "";
    let swapped = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (!swapped) {
        swapped = true;
        // As cert-manager and certbot do: write beside, rename over.
        writeFileSync(`${live.keyFile}.new`, second.key);
        writeFileSync(`${live.certFile}.new`, second.cert);
        renameSync(`${live.keyFile}.new`, live.keyFile);
        renameSync(`${live.certFile}.new`, live.certFile);
        for (let i = 0; i < 100 && certificate.current.fingerprint256 === old; i++) await sleep(10);
        assert.notEqual(certificate.current.fingerprint256, old, "the proxy reloaded the files");
        assert.equal(await servedFingerprint(), certificate.current.fingerprint256);
      }
    }
    assert.equal(text.split(/\s+/).filter(Boolean).length, 40, "the open stream finished whole");
  });

  it("takes its certificate from the configuration file's tls: section", async () => {
    const pool = await startPoolStack({
      resources: { east: {} },
      yaml: (urls) => `
tls:
  cert: ${live.certFile}
  key: ${live.keyFile}
resources:
  east: { endpoint: ${urls.east}, apiKey: "\${EMULATOR_KEY}" }
`,
    });
    try {
      assert.match(pool.url, /^https:/);
      const response = await undiciFetch(`${pool.url}/healthz`, { dispatcher });
      assert.equal(((await response.json()) as { status: string }).status, "ok");
    } finally {
      await pool.close();
    }
  });
});
