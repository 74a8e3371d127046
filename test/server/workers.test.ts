import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Emulator, startEmulator } from "@azure-oai-proxy/emulator";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/** The JSON log lines a process has written so far, and a way to wait for one. */
function logLines(child: ChildProcess) {
  const lines: Record<string, unknown>[] = [];
  let waiters: (() => void)[] = [];
  let rest = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    rest += chunk.toString();
    const parts = rest.split("\n");
    rest = parts.pop() ?? "";
    for (const line of parts) {
      if (!line.startsWith("{")) continue;
      lines.push(JSON.parse(line));
      for (const wake of waiters) wake();
      waiters = [];
    }
  });
  const waitFor = async (test: (line: Record<string, unknown>) => boolean, count = 1) => {
    const deadline = Date.now() + 15_000;
    while (lines.filter(test).length < count) {
      if (Date.now() > deadline) throw new Error(`no such log line: ${JSON.stringify(lines)}`);
      await Promise.race([
        new Promise<void>((r) => waiters.push(r)),
        new Promise((r) => setTimeout(r, 200)),
      ]);
    }
    return lines.filter(test);
  };
  return { lines, waitFor };
}

const chat = { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] };

describe("AZURE_OPENAI_PROXY_WORKERS", () => {
  let emulator: Emulator;
  let dir: string;
  before(async () => {
    emulator = await startEmulator();
    dir = await mkdtemp(join(tmpdir(), "workers-"));
  });
  after(async () => {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("serves one port from two processes, replaces a crashed one, reloads all, and drains on SIGTERM", async () => {
    const port = await freePort();
    const file = join(dir, "proxy.yaml");
    const yaml = (model: string) =>
      `resources:\n  main:\n    endpoint: ${emulator.url}\n    apiKey: emulator-key\nmodels:\n  ${model}:\n    targets:\n      - resource: main\n        deployment: gpt-4o\n`;
    await writeFile(file, yaml("team-model"));
    const child = spawn(process.execPath, [MAIN, "--config", file], {
      env: {
        PATH: process.env.PATH ?? "",
        AZURE_OPENAI_PROXY_WORKERS: "2",
        AZURE_OPENAI_PROXY_ADDRESS: `127.0.0.1:${port}`,
        AZURE_OPENAI_PROXY_API_KEYS: "client-key",
        LOG_LEVEL: "info",
      },
      cwd: dir,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const log = logLines(child);
    const url = `http://127.0.0.1:${port}`;
    const call = (model = "team-model") =>
      fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer client-key" },
        body: JSON.stringify({ ...chat, model }),
      });
    try {
      await log.waitFor((l) => l.msg === "azure-oai-proxy workers listening");
      const isRequest = (l: Record<string, unknown>) => l.msg === "request" && l.status === 200;
      for (let i = 0; i < 12; i++) assert.equal((await call()).status, 200);
      const pids = new Set((await log.waitFor(isRequest, 12)).map((l) => l.pid));
      assert.equal(pids.size, 2, "both workers served requests");

      // A worker that dies is replaced, and the port keeps answering meanwhile.
      const [victim] = [...pids] as number[];
      process.kill(victim as number, "SIGKILL");
      await log.waitFor((l) => l.msg === "worker exited; starting another");
      for (let i = 0; i < 6; i++) assert.equal((await call()).status, 200);
      await log.waitFor((l) => l.msg === "azure-oai-proxy listening", 3);

      // SIGHUP reaches every worker: the renamed model works wherever the request lands.
      await writeFile(file, yaml("renamed-model"));
      child.kill("SIGHUP");
      const reloaded = await log.waitFor(
        (l) => l.msg === "configuration reloaded" && l.why === "requested",
        2,
      );
      assert.ok(new Set(reloaded.map((l) => l.pid)).size >= 2);
      for (let i = 0; i < 6; i++) assert.equal((await call("renamed-model")).status, 200);
    } finally {
      child.kill("SIGTERM");
    }
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
    await assert.rejects(fetch(`${url}/healthz`));
  });

  it("refuses to start several workers with client limits but no Redis, saying why", async () => {
    const file = join(dir, "limits.yaml");
    await writeFile(
      file,
      `resources:\n  main:\n    endpoint: ${emulator.url}\n    apiKey: emulator-key\nclients:\n  team-a:\n    key: team-a-key-123\n    limits:\n      rpm: 5\n`,
    );
    const child = spawn(process.execPath, [MAIN, "--config", file], {
      env: {
        PATH: process.env.PATH ?? "",
        AZURE_OPENAI_PROXY_WORKERS: "2",
        AZURE_OPENAI_PROXY_ADDRESS: `127.0.0.1:${await freePort()}`,
      },
      cwd: dir,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const [code] = await once(child, "exit");
    assert.equal(code, 1);
    assert.match(stderr, /limits need AZURE_OPENAI_PROXY_REDIS_URL/);
  });
});
