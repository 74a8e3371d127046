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

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/** Starts `node src/main.ts` and resolves once it logs that it listens. */
async function startProcess(file: string, port: number, redisUrl: string): Promise<ChildProcess> {
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
  child.stdout?.resume();
  return child;
}

describe("two proxy processes on one Redis", { skip: redisMissing }, () => {
  let emulator: Emulator;
  let redis: RedisServer;
  let dir: string;
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  before(async () => {
    emulator = await startEmulator();
    redis = await startRedis();
    dir = await mkdtemp(join(tmpdir(), "aop-replicas-"));
    const file = join(dir, "proxy.yaml");
    await writeFile(
      file,
      `resources:\n  main: { endpoint: ${emulator.url}, apiKey: emulator-key }\nclients:\n  app: { key: ${KEY}, limits: { rpm: 5 } }\n`,
    );
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      ports.push(port);
      children.push(await startProcess(file, port, redis.url));
    }
  });
  after(async () => {
    for (const child of children) {
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
