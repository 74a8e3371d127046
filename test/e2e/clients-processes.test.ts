/**
 * Two proxy processes (`node src/main.ts`, as deployed) sharing one real Redis hold one client
 * limit between them: the replicas case of issue 10.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Emulator, startEmulator } from "@azure-oai-proxy/emulator";
import OpenAI from "openai";
import { type RedisServer, redisMissing, startRedis } from "../helpers/redis.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;
const KEY = "sk-replicated-0001";
const WARM_KEY = "sk-warm-up-0002";

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

interface ProxyProcess {
  readonly child: ChildProcess;
  /** Everything it has written to stdout so far. */
  readonly output: () => string;
}

/** Starts `node src/main.ts` and resolves once it logs that it listens. */
async function startProcess(file: string, port: number, redisUrl: string): Promise<ProxyProcess> {
  const child = spawn(process.execPath, [MAIN, "--config", file], {
    env: {
      PATH: process.env.PATH ?? "",
      AZURE_OPENAI_PROXY_ADDRESS: `127.0.0.1:${port}`,
      AZURE_OPENAI_PROXY_REDIS_URL: redisUrl,
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let seen = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start: ${seen}`)), 20_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes("azure-oai-proxy listening")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`exited ${code}: ${seen}`)));
  });
  return { child, output: () => seen };
}

/**
 * Waits until a process is not in a Redis outage: on a loaded machine a first call can miss its
 * 50 ms, and the process then (rightly) serves without limits until its next probe.
 */
async function limitsEnforced(proxy: ProxyProcess): Promise<void> {
  const count = (text: string) => proxy.output().split(text).length - 1;
  for (let i = 0; i < 100; i++) {
    if (count("limits store unreachable") === count("limits store is back")) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`still in an outage: ${proxy.output()}`);
}

describe("two proxy processes on one Redis", { skip: redisMissing }, () => {
  let emulator: Emulator;
  let redis: RedisServer;
  let dir: string;
  const proxies: ProxyProcess[] = [];
  const ports: number[] = [];
  before(async () => {
    emulator = await startEmulator();
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), "aop-replicas-"));
    const file = join(dir, "proxy.yaml");
    await writeFile(
      file,
      `resources:\n  main: { endpoint: ${emulator.url}, apiKey: emulator-key }\nclients:\n  app: { key: ${KEY}, limits: { rpm: 5 } }\n  warm: { key: ${WARM_KEY}, limits: { rpm: 100000 } }\n`,
    );
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      ports.push(port);
      proxies.push(await startProcess(file, port, redis.url));
    }
    // Each process talks to Redis once before the test, with a client of its own.
    for (const port of ports) {
      const warm = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: WARM_KEY });
      await warm.chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "hi" }],
      });
    }
    for (const proxy of proxies) await limitsEnforced(proxy);
  });
  after(async () => {
    for (const { child } of proxies) {
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    }
    await redis?.close();
    await emulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("enforce one rpm limit between them", async () => {
    const clients = ports.map(
      (port) => new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: KEY, maxRetries: 0 }),
    );
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      for (const client of clients) {
        statuses.push(
          await client.chat.completions
            .create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] })
            .then(
              () => 200,
              (error: { status: number }) => error.status,
            ),
        );
      }
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429, 429, 429]);
  });
});
