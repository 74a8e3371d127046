import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A real redis-server for one test file: loopback only, its own temp dir, nothing persisted. */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** Stops the server (an outage); `start` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

/** Why Redis tests cannot run here, or undefined when redis-server is installed. */
export const redisMissing: string | undefined = (() => {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return undefined;
  } catch {
    return "redis-server is not installed (apt-get install -y redis-server)";
  }
})();

export async function startRedis(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), "aop-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async () => {
    const process = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir,
        "--daemonize",
        "no",
        "--loglevel",
        "notice",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = process;
    let output = "";
    const ready = new Promise<void>((resolve, reject) => {
      const read = (data: Buffer) => {
        output += data.toString();
        if (output.includes("Ready to accept connections")) resolve();
      };
      process.stdout?.on("data", read);
      process.stderr?.on("data", read);
      process.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
    });
    const timeout = setTimeout(() => process.kill("SIGKILL"), 10_000);
    try {
      await ready;
    } finally {
      clearTimeout(timeout);
    }
  };

  const stop = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = once(running, "exit");
    running.kill("SIGKILL");
    await exited;
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    start,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  server.close();
  await once(server, "close");
  return port;
}
