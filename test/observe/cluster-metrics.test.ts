import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { request } from "node:http";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { type Emulator, startEmulator } from "@azure-oai-proxy/emulator";
import { sample } from "../helpers/prometheus.ts";
import { EMULATOR_KEY } from "../helpers/stack.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/** One request on a connection of its own, so the pool's round robin spreads them. */
function send(port: number, method: string, path: string, body?: string) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        agent: false,
        headers: { "content-type": "application/json", "api-key": EMULATOR_KEY },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("metrics of a worker pool", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator();
  });
  after(() => emulator.close());

  it("adds up every worker's counts, whichever worker answers the scrape", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH ?? "",
        AZURE_OPENAI_ENDPOINT: emulator.url,
        AZURE_OPENAI_PROXY_WORKERS: "2",
        AZURE_OPENAI_PROXY_ADDRESS: `127.0.0.1:${port}`,
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const pids = new Set<number>();
    let listening = 0;
    child.stdout?.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (!line.startsWith("{")) continue;
        const entry = JSON.parse(line);
        if (entry.msg === "azure-oai-proxy listening") listening += 1;
        if (entry.msg === "request" && entry.status === 200) pids.add(entry.pid);
      }
    });
    try {
      const deadline = Date.now() + 20_000;
      while (listening < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const chat = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });
      for (let i = 0; i < 10; i++) {
        assert.equal((await send(port, "POST", "/v1/chat/completions", chat)).status, 200);
      }
      await new Promise((r) => setTimeout(r, 700)); // the batched log lines
      assert.equal(pids.size, 2, "both workers served requests");
      for (let i = 0; i < 4; i++) {
        const metrics = await send(port, "GET", "/metrics");
        assert.equal(metrics.status, 200);
        const total = sample(metrics.text, "azure_oai_proxy_requests_total", {
          operation: "chat.completions",
          model: "gpt-4o",
          status: "200",
        });
        assert.equal(total, 10);
      }
    } finally {
      child.kill("SIGTERM");
    }
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
  });
});
