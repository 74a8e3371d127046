import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import WebSocket from "ws";
import { DEFAULT_API_VERSION } from "../../src/config/api-versions.ts";
import { EMULATOR_KEY, type Stack, startStack } from "../helpers/stack.ts";

const PROXY_KEY = "proxy-client-key-7";
const APP_KEY = "sk-app-dummy-8";

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "curl",
      ["--silent", "--show-error", "--max-time", "20", ...args],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, encoding: "utf8" },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function rawExchange(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.end(text);
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  await once(socket, "close");
  return Buffer.concat(chunks).toString("utf8");
}

const CHAT = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });

describe("forward mode on the proxy's listener", () => {
  const dir = mkdtempSync(join(tmpdir(), "oai-forward-server-"));
  const caDir = join(dir, "ca");
  let stack: Stack;

  before(async () => {
    stack = await startStack({
      env: { AZURE_OPENAI_PROXY_FORWARD: "on", AZURE_OPENAI_PROXY_CA_DIR: caDir },
    });
  });
  after(async () => {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("says at start where the CA is and how to trust it", () => {
    const line = stack.logs.find((l) => l.includes("forward mode on"));
    assert.ok(line, "no start line for forward mode");
    const record = JSON.parse(line) as { ca: string; trust: Record<string, string> };
    assert.equal(record.ca, join(caDir, "ca.pem"));
    assert.deepEqual(record.trust, {
      node: `NODE_EXTRA_CA_CERTS=${record.ca}`,
      openssl: `SSL_CERT_FILE=${record.ca}`,
      python: `REQUESTS_CA_BUNDLE=${record.ca}`,
      curl: `curl --cacert ${record.ca}`,
    });
  });

  it("serves the CA certificate at GET /ca.pem", async () => {
    const response = await fetch(`${stack.url}/ca.pem`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/x-pem-file");
    assert.equal(await response.text(), readFileSync(join(caDir, "ca.pem"), "utf8"));
  });

  it("curl to https://api.openai.com through the proxy reaches the emulator as the Azure request", async () => {
    const result = await curl([
      "--proxy",
      stack.url,
      "--cacert",
      join(caDir, "ca.pem"),
      "-H",
      `Authorization: Bearer ${EMULATOR_KEY}`,
      "-H",
      "content-type: application/json",
      "--data",
      CHAT,
      "https://api.openai.com/v1/chat/completions",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout) as { object: string; choices: unknown[] };
    assert.equal(body.object, "chat.completion");
    const upstream = stack.emulator.requests.findLast((r) => r.method === "POST");
    assert.equal(upstream?.path, "/openai/deployments/gpt-4o/chat/completions");
    assert.equal(upstream?.query["api-version"], DEFAULT_API_VERSION);
    assert.equal(upstream?.headers["api-key"], EMULATOR_KEY);
    const logged = stack.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    const line = logged.findLast((l) => l.path === "/v1/chat/completions");
    assert.equal(line?.status, 200);
    assert.equal(line?.via, "connect");
    assert.equal(line?.deployment, "gpt-4o");
  });

  it("serves plain-HTTP absolute-form requests the same way", async () => {
    const result = await curl([
      "--proxy",
      stack.url,
      "-H",
      `api-key: ${EMULATOR_KEY}`,
      "-H",
      "content-type: application/json",
      "--data",
      CHAT,
      "http://api.openai.com/v1/chat/completions",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { object: string }).object, "chat.completion");
  });

  it("bridges a Realtime WebSocket opened inside the tunnel to Azure's realtime endpoint", async () => {
    const { hostname, port } = new URL(stack.url);
    const raw = connect(Number(port), hostname);
    raw.write("CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n");
    const [first] = (await once(raw, "data")) as [Buffer];
    assert.match(first.toString(), /^HTTP\/1\.1 200 /);
    const secure = tlsConnect({
      socket: raw,
      servername: "api.openai.com",
      ca: readFileSync(join(caDir, "ca.pem")),
    });
    await once(secure, "secureConnect");
    const ws = new WebSocket("wss://api.openai.com/v1/realtime?model=gpt-4o-realtime-preview", {
      createConnection: () => secure,
      headers: { "api-key": EMULATOR_KEY },
    });
    const [message] = (await once(ws, "message")) as [Buffer];
    assert.equal((JSON.parse(String(message)) as { type: string }).type, "session.created");
    ws.close();
    await once(ws, "close");
    const session = stack.emulator.realtime.sessions.at(-1);
    assert.equal(session?.deployment, "gpt-4o-realtime-preview");
  });

  it("refuses CONNECT example.com:443 with 403", async () => {
    const response = await rawExchange(stack.url, "CONNECT example.com:443 HTTP/1.1\r\n\r\n");
    assert.match(response, /^HTTP\/1\.1 403 Forbidden\r\n/);
  });

  it("keeps the same CA across a restart", async () => {
    const again = await startStack({
      env: { AZURE_OPENAI_PROXY_FORWARD: "on", AZURE_OPENAI_PROXY_CA_DIR: caDir },
    });
    try {
      const first = await (await fetch(`${stack.url}/ca.pem`)).text();
      const second = await (await fetch(`${again.url}/ca.pem`)).text();
      assert.equal(second, first);
    } finally {
      await again.close();
    }
  });

  it("has no /ca.pem and answers no CONNECT when forward mode is off", async () => {
    const off = await startStack();
    try {
      assert.equal((await fetch(`${off.url}/ca.pem`)).status, 404);
      const response = await rawExchange(off.url, "CONNECT api.openai.com:443 HTTP/1.1\r\n\r\n");
      assert.equal(response, "");
    } finally {
      await off.close();
    }
  });
});

describe("forward mode with client keys", () => {
  const dir = mkdtempSync(join(tmpdir(), "oai-forward-keys-"));
  let stack: Stack;

  before(async () => {
    stack = await startStack({
      env: {
        AZURE_OPENAI_PROXY_FORWARD: "on",
        AZURE_OPENAI_PROXY_CA_DIR: dir,
        AZURE_OPENAI_PROXY_API_KEYS: PROXY_KEY,
        AZURE_OPENAI_API_KEY: EMULATOR_KEY,
      },
    });
  });
  after(async () => {
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const proxyWith = (key: string) => stack.url.replace("http://", `http://app:${key}@`);

  it("takes the client key from the proxy URL, whatever key the app sends", async () => {
    const result = await curl([
      "--proxy",
      proxyWith(PROXY_KEY),
      "--cacert",
      join(dir, "ca.pem"),
      "-H",
      `Authorization: Bearer ${APP_KEY}`,
      "-H",
      "content-type: application/json",
      "--data",
      CHAT,
      "https://api.openai.com/v1/chat/completions",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { object: string }).object, "chat.completion");
    const upstream = stack.emulator.requests.findLast((r) => r.method === "POST");
    assert.equal(upstream?.headers["api-key"], EMULATOR_KEY);
  });

  it("answers a wrong proxy key with 407", async () => {
    const result = await curl([
      "--proxy",
      proxyWith("wrong-key"),
      "--cacert",
      join(dir, "ca.pem"),
      "https://api.openai.com/v1/models",
    ]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /407/);
  });

  it("checks the app's own key as for a direct request when the proxy URL has none", async () => {
    const result = await curl([
      "--proxy",
      stack.url,
      "--cacert",
      join(dir, "ca.pem"),
      "--write-out",
      "%{http_code}",
      "--output",
      "/dev/null",
      "-H",
      `Authorization: Bearer ${APP_KEY}`,
      "https://api.openai.com/v1/models",
    ]);
    assert.equal(result.stdout, "401");
  });

  it("writes no key in any log line", () => {
    for (const line of stack.logs) {
      for (const key of [PROXY_KEY, APP_KEY, EMULATOR_KEY, "wrong-key"]) {
        assert.ok(!line.includes(key), `a log line contains a key: ${line}`);
      }
    }
  });
});
