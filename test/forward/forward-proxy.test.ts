import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ProxyAgent, request } from "undici";
import type { HostPort } from "../../src/config/forward.ts";
import { type CertificateAuthority, loadCertificateAuthority } from "../../src/forward/ca.ts";
import { createForwardProxy, type ForwardProxy } from "../../src/forward/forward-proxy.ts";
import { forwardedVia } from "../../src/forward/via.ts";

const PROXY_KEY = "proxy-key-1";
const INNER_KEY = "sk-inner-key-2";
const APP_KEY = "sk-app-dummy-3";

interface Seen {
  method: string | undefined;
  url: string | undefined;
  host: string | undefined;
  authorization: string | undefined;
  apiKey: string | undefined;
  proxyAuthorization: string | undefined;
  via: string | undefined;
}

/** A tiny stand-in for the proxy's pipeline: it says what it received. */
function innerHandler(seen: Seen[], streams: { next?: () => void; closed?: () => void }) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const header = (name: string) => {
      const value = req.headers[name];
      return typeof value === "string" ? value : undefined;
    };
    seen.push({
      method: req.method,
      url: req.url,
      host: header("host"),
      authorization: header("authorization"),
      apiKey: header("api-key"),
      proxyAuthorization: header("proxy-authorization"),
      via: forwardedVia(req),
    });
    if (req.url === "/v1/stream") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: first\n\n");
      streams.next = () => res.end("data: second\n\n");
      return;
    }
    if (req.url === "/v1/hang") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: first\n\n");
      res.once("close", () => streams.closed?.());
      return;
    }
    req.resume();
    req.once("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, url: req.url }));
    });
  };
}

interface Harness {
  readonly url: string;
  readonly port: number;
  readonly ca: CertificateAuthority;
  readonly seen: Seen[];
  readonly logs: string[];
  readonly tunnelsOpened: HostPort[];
  readonly streams: { next?: () => void; closed?: () => void };
  connects: number;
  readonly forward: ForwardProxy;
  close(): Promise<void>;
}

async function startHarness(options: { dir: string; tunnels: HostPort[] }): Promise<Harness> {
  const ca = await loadCertificateAuthority({ dir: options.dir, hosts: ["api.openai.com"] });
  const seen: Seen[] = [];
  const logs: string[] = [];
  const streams: Harness["streams"] = {};
  const tunnelsOpened: HostPort[] = [];
  const line = (level: string) => (fields: object, message: string) =>
    logs.push(JSON.stringify({ level, ...fields, message }));
  const forward = createForwardProxy({
    settings: { hosts: ["api.openai.com"], tunnels: options.tunnels },
    authority: ca,
    handleRequest: innerHandler(seen, streams),
    // As with client keys configured: a key is needed, from Proxy-Authorization or the request.
    acceptsKey: (key) => key === PROXY_KEY,
    log: { debug: line("debug"), info: line("info"), warn: line("warn") },
    connectTunnel: (target) => {
      tunnelsOpened.push(target);
      return connect(target.port, target.host);
    },
  });
  const direct = innerHandler(seen, streams);
  const server: Server = createServer((req, res) => {
    if (forward.handleAbsoluteForm(req, res)) return;
    direct(req, res);
  });
  const harness: Harness = {
    url: "",
    port: 0,
    ca,
    seen,
    logs,
    tunnelsOpened,
    streams,
    connects: 0,
    forward,
    async close() {
      forward.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  server.on("connect", (req: IncomingMessage, socket, head: Buffer) => {
    harness.connects++;
    forward.handleConnect(req, socket, head);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return Object.assign(harness, { url: `http://127.0.0.1:${port}`, port });
}

/** curl with no proxy from the environment: only what the test says. */
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

/** Sends raw bytes to the proxy and reads until it closes. */
async function rawExchange(port: number, text: string): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  socket.end(text);
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  await once(socket, "close");
  return Buffer.concat(chunks).toString("utf8");
}

describe("forward mode (HTTPS_PROXY)", () => {
  const dir = mkdtempSync(join(tmpdir(), "oai-forward-"));
  let echo: ReturnType<typeof createTcpServer>;
  let echoPort = 0;
  let closedPort = 0;
  let h: Harness;
  const caFile = () => h.ca.certificatePath;
  const withKey = () => `http://user:${PROXY_KEY}@127.0.0.1:${h.port}`;

  before(async () => {
    echo = createTcpServer((socket: Socket) => socket.pipe(socket));
    echo.listen(0, "127.0.0.1");
    await once(echo, "listening");
    echoPort = (echo.address() as AddressInfo).port;
    // A port nothing listens on: taken, then given back.
    const probe = createTcpServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    h = await startHarness({
      dir,
      tunnels: [
        { host: "127.0.0.1", port: echoPort },
        { host: "127.0.0.1", port: closedPort },
      ],
    });
  });

  after(async () => {
    await h.close();
    echo.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("curl through CONNECT reaches the inner handler, with the proxy key as the client's key", async () => {
    const result = await curl([
      "--proxy",
      withKey(),
      "--cacert",
      caFile(),
      "-H",
      `Authorization: Bearer ${APP_KEY}`,
      "https://api.openai.com/v1/models",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { ok: true, url: "/v1/models" });
    assert.deepEqual(h.seen.at(-1), {
      method: "GET",
      url: "/v1/models",
      host: "api.openai.com",
      authorization: `Bearer ${PROXY_KEY}`,
      apiKey: undefined,
      proxyAuthorization: undefined,
      via: "connect",
    });
  });

  it("lets the request's own key speak when the tunnel has no Proxy-Authorization", async () => {
    const result = await curl([
      "--proxy",
      h.url,
      "--cacert",
      caFile(),
      "-H",
      `api-key: ${INNER_KEY}`,
      "-H",
      "content-type: application/json",
      "--data",
      '{"model":"gpt-4o","messages":[]}',
      "https://api.openai.com/v1/chat/completions",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const seen = h.seen.at(-1);
    assert.equal(seen?.method, "POST");
    assert.equal(seen?.url, "/v1/chat/completions");
    assert.equal(seen?.apiKey, INNER_KEY);
  });

  it("answers 407 with Proxy-Authenticate when neither the tunnel nor the request has a key", async () => {
    const result = await curl([
      "--proxy",
      h.url,
      "--cacert",
      caFile(),
      "--include",
      "https://api.openai.com/v1/models",
    ]);
    // curl shows the CONNECT answer (200) first, then the answer inside the tunnel.
    assert.match(result.stdout, /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 407 /);
    assert.match(result.stdout, /proxy-authenticate: Basic realm="azure-oai-proxy"/i);
    assert.match(result.stdout, /"code":"proxy_authentication_required"/);
  });

  it("keeps the tunnel alive between requests", async () => {
    const before = h.connects;
    const result = await curl([
      "--proxy",
      withKey(),
      "--cacert",
      caFile(),
      "--write-out",
      "[%{num_connects}]",
      "https://api.openai.com/v1/models",
      "https://api.openai.com/v1/files",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\[1\].*\[0\]$/s);
    assert.equal(h.connects - before, 1);
  });

  it("streams inside the tunnel without buffering, and a client that goes away closes the response", async () => {
    const agent = new ProxyAgent({
      uri: h.url,
      token: `Bearer ${PROXY_KEY}`,
      requestTls: { ca: h.ca.certificatePem },
    });
    try {
      const response = await request("https://api.openai.com/v1/stream", { dispatcher: agent });
      const reader = response.body[Symbol.asyncIterator]();
      // The second event is written only once the first has arrived: buffering would hang here.
      assert.equal(String((await reader.next()).value), "data: first\n\n");
      h.streams.next?.();
      assert.equal(String((await reader.next()).value), "data: second\n\n");

      const closed = new Promise<void>((resolve) => {
        h.streams.closed = resolve;
      });
      const controller = new AbortController();
      const hanging = await request("https://api.openai.com/v1/hang", {
        dispatcher: agent,
        signal: controller.signal,
      });
      await hanging.body[Symbol.asyncIterator]().next();
      controller.abort();
      await closed;
    } finally {
      await agent.close();
    }
  });

  it("refuses CONNECT to any other host with 403: never an open proxy", async () => {
    const response = await rawExchange(
      h.port,
      "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    );
    assert.match(response, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(response, /"code":"forward_host_not_allowed"/);
    const curlResult = await curl(["--proxy", withKey(), "https://example.com/"]);
    assert.notEqual(curlResult.code, 0);
    assert.match(curlResult.stderr, /403/);
  });

  it("answers a wrong proxy key with 407 and Proxy-Authenticate", async () => {
    const basic = Buffer.from("user:wrong-key").toString("base64");
    const response = await rawExchange(
      h.port,
      `CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\nProxy-Authorization: Basic ${basic}\r\n\r\n`,
    );
    assert.match(response, /^HTTP\/1\.1 407 Proxy Authentication Required\r\n/);
    assert.match(response, /proxy-authenticate: Basic realm="azure-oai-proxy"\r\n/);
    assert.match(response, /"code":"invalid_proxy_key"/);
    const curlResult = await curl([
      "--proxy",
      `http://user:wrong-key@127.0.0.1:${h.port}`,
      "--cacert",
      caFile(),
      "https://api.openai.com/v1/models",
    ]);
    assert.notEqual(curlResult.code, 0);
    assert.match(curlResult.stderr, /407/);
  });

  it("serves absolute-form plain-HTTP requests for intercepted hosts in origin-form, and refuses others", async () => {
    const result = await curl(["--proxy", withKey(), "http://api.openai.com/v1/models?limit=2"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { ok: true, url: "/v1/models?limit=2" });
    assert.equal(h.seen.at(-1)?.via, "absolute-form");
    assert.equal(h.seen.at(-1)?.authorization, `Bearer ${PROXY_KEY}`);
    assert.equal(h.seen.at(-1)?.proxyAuthorization, undefined);

    const refused = await curl([
      "--proxy",
      withKey(),
      "--write-out",
      "%{http_code}",
      "--output",
      "/dev/null",
      "http://example.com/",
    ]);
    assert.equal(refused.stdout, "403");
  });

  it("still serves ordinary requests to the listener itself", async () => {
    const response = await fetch(`${h.url}/v1/models`);
    assert.equal(response.status, 200);
    assert.equal(h.seen.at(-1)?.via, undefined);
  });

  it("opens blind tunnels only to the allow-list, and only with the proxy key", async () => {
    const basic = Buffer.from(`user:${PROXY_KEY}`).toString("base64");
    const socket = connect(h.port, "127.0.0.1");
    socket.write(
      `CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic ${basic}\r\n\r\n`,
    );
    let received = "";
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString();
      if (received.endsWith("\r\n\r\n")) socket.write("ping");
      if (received.endsWith("ping")) socket.end();
    });
    await once(socket, "close");
    assert.equal(received, "HTTP/1.1 200 Connection Established\r\n\r\nping");

    const anonymous = await rawExchange(h.port, `CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\n\r\n`);
    assert.match(anonymous, /^HTTP\/1\.1 407 /);
    const other = await rawExchange(
      h.port,
      `CONNECT 127.0.0.1:${echoPort + 1} HTTP/1.1\r\nProxy-Authorization: Basic ${basic}\r\n\r\n`,
    );
    assert.match(other, /^HTTP\/1\.1 403 /);
  });

  it("answers 502 when an allow-listed tunnel target cannot be reached", async () => {
    const basic = Buffer.from(`user:${PROXY_KEY}`).toString("base64");
    const response = await rawExchange(
      h.port,
      `CONNECT 127.0.0.1:${closedPort} HTTP/1.1\r\nProxy-Authorization: Basic ${basic}\r\n\r\n`,
    );
    assert.match(response, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    assert.match(response, /"code":"tunnel_unreachable"/);
  });

  it("never connects to an intercepted host", () => {
    assert.deepEqual(h.tunnelsOpened, [
      { host: "127.0.0.1", port: echoPort },
      { host: "127.0.0.1", port: closedPort },
    ]);
  });

  it("closes a tunnel at once when the client hangs up during the TLS handshake", async () => {
    const socket = connect(h.port, "127.0.0.1");
    socket.write("CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n");
    await once(socket, "data");
    const started = Date.now();
    socket.end(); // half-close, as a process that exits or a client that gives up does
    socket.resume();
    await once(socket, "close");
    // Well before the 10 s handshake timeout.
    assert.ok(Date.now() - started < 3000, `closed after ${Date.now() - started} ms`);
    assert.ok(h.logs.some((l) => l.includes("during the TLS handshake")));
  });

  it("logs a hint when a client does not trust the CA", async () => {
    const result = await curl(["--proxy", withKey(), "https://api.openai.com/v1/models"]);
    assert.equal(result.code, 60);
    const deadline = Date.now() + 2000;
    while (!h.logs.some((l) => l.includes("TLS handshake")) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const line = h.logs.find((l) => l.includes("TLS handshake"));
    assert.match(line ?? "", /may not trust the proxy's CA.*NODE_EXTRA_CA_CERTS/);
  });

  it("writes no key in any log line", () => {
    assert.ok(h.logs.length > 0);
    for (const line of h.logs) {
      for (const key of [PROXY_KEY, INNER_KEY, APP_KEY, "wrong-key"]) {
        assert.ok(!line.includes(key), `a log line contains a key: ${line}`);
      }
    }
  });
});
