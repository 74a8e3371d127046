/**
 * The four contenders, each reachable as a load target:
 *   direct — the fake Azure path itself (the limit);
 *   nginx  — the Debian nginx as a rewriting reverse proxy (the best C proxy);
 *   floor  — bench/node-floor.ts (node:http + undici, no features: the Node floor);
 *   proxy  — azure-oai-proxy, started as users start it: `node src/main.ts` with env.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Target } from "./lib/jobs.ts";
import {
  AZURE_CHAT_PATH,
  AZURE_KEY,
  AZURE_TRANSCRIBE_PATH,
  credentialHeaders,
  OPENAI_CHAT_PATH,
  OPENAI_TRANSCRIBE_PATH,
  SDK_HEADERS,
} from "./lib/payloads.ts";
import { childPids, freePort, spawnTracked, stopChild, waitReady } from "./lib/proc.ts";
import { nginxArgs, writeNginxConfig } from "./nginx.ts";

export const CONTENDERS = ["direct", "nginx", "floor", "proxy"] as const;
export type ContenderId = (typeof CONTENDERS)[number];

export const LABELS: Readonly<Record<ContenderId, string>> = {
  direct: "direct",
  nginx: "nginx",
  floor: "node floor",
  proxy: "azure-oai-proxy",
};

export const REPO = fileURLToPath(new URL("..", import.meta.url));

/**
 * The Node flags of `npm start` (package.json), so the proxy runs here exactly as users start
 * it: `node <flags> src/main.ts`.
 */
const START_FLAGS: readonly string[] = (() => {
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
    scripts?: { start?: string };
  };
  const start = pkg.scripts?.start ?? "";
  const match = /^node\s+(.*?)\s*src\/main\.ts$/.exec(start.trim());
  return match?.[1] ? match[1].split(/\s+/) : [];
})();

export interface Running {
  readonly id: ContenderId;
  readonly target: Target;
  /** Processes whose RSS and CPU are the contender's (empty for direct). */
  pids(): number[];
  /** ms from spawn to the first 200 on /healthz (undefined for direct). */
  readonly readyMs: number | undefined;
  readonly child: ChildProcess | undefined;
  /** Where its output goes. */
  readonly logPath: string | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly fakePort: number;
  readonly tmp: string;
  readonly nginx: string | undefined;
  /** Where azure-oai-proxy's src/ and package.json are (the repo, or a snapshot of a git ref). */
  readonly proxyRoot?: string;
  /** Extra environment for azure-oai-proxy (experiments, e.g. LOG_LEVEL=warn). */
  readonly proxyEnv?: Readonly<Record<string, string>>;
  /** Extra node flags for azure-oai-proxy (e.g. --cpu-prof). */
  readonly proxyNodeFlags?: readonly string[];
  readonly readyTimeoutMs?: number;
}

function targetFor(id: ContenderId, port: number): Target {
  const direct = id === "direct";
  return {
    host: "127.0.0.1",
    port,
    chatPath: direct ? AZURE_CHAT_PATH : OPENAI_CHAT_PATH,
    uploadPath: direct ? AZURE_TRANSCRIBE_PATH : OPENAI_TRANSCRIBE_PATH,
    headers: { ...SDK_HEADERS, ...credentialHeaders(direct) },
  };
}

/** A minimal environment: no LOG_LEVEL or NODE_OPTIONS leaking in from the caller's shell. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG", "TZ"]) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return env;
}

let serial = 0;

export async function startContender(id: ContenderId, options: StartOptions): Promise<Running> {
  const readyTimeout = options.readyTimeoutMs ?? 15_000;
  if (id === "direct") {
    return {
      id,
      target: targetFor(id, options.fakePort),
      pids: () => [],
      readyMs: undefined,
      child: undefined,
      logPath: undefined,
      stop: async () => {},
    };
  }
  const port = await freePort();
  const n = ++serial;
  if (id === "nginx") {
    if (options.nginx === undefined) throw new Error("nginx is not installed");
    const dir = join(options.tmp, `nginx-${n}`);
    const config = writeNginxConfig(dir, port, options.fakePort);
    const started = performance.now();
    const child = spawnTracked("nginx", options.nginx, nginxArgs(dir, config), {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    let readyMs: number;
    try {
      readyMs = await waitReady(port, "/healthz", started, readyTimeout, child);
    } catch (error) {
      await stopChild(child, "SIGKILL", 500);
      throw new Error(`nginx did not start: ${(error as Error).message} ${stderr.trim()}`);
    }
    const master = child.pid ?? 0;
    return {
      id,
      target: targetFor(id, port),
      pids: () => [master, ...childPids(master)],
      readyMs,
      child,
      logPath: join(dir, "error.log"),
      stop: () => stopChild(child, "SIGTERM", 3000),
    };
  }

  const logPath = join(options.tmp, `${id}-${n}.log`);
  const out = openSync(logPath, "a");
  let args: string[];
  let env: NodeJS.ProcessEnv;
  let cwd = REPO;
  if (id === "floor") {
    args = [join(REPO, "bench/node-floor.ts")];
    env = {
      ...baseEnv(),
      UPSTREAM: `http://127.0.0.1:${options.fakePort}`,
      AZURE_KEY,
      PORT: String(port),
    };
  } else {
    const root = options.proxyRoot ?? REPO;
    cwd = root;
    args = [...START_FLAGS, ...(options.proxyNodeFlags ?? []), "src/main.ts"];
    env = {
      ...baseEnv(),
      AZURE_OPENAI_ENDPOINT: `http://127.0.0.1:${options.fakePort}`,
      AZURE_OPENAI_API_KEY: AZURE_KEY,
      AZURE_OPENAI_PROXY_ADDRESS: `127.0.0.1:${port}`,
      NODE_ENV: "production",
      ...options.proxyEnv,
    };
    // A developer's .env would change what is measured: start from a clean directory then.
    if (existsSync(join(root, ".env"))) {
      cwd = options.tmp;
      args[args.length - 1] = join(root, "src/main.ts");
    }
  }
  const started = performance.now();
  const child = spawnTracked(id, process.execPath, args, { cwd, env, stdio: ["ignore", out, out] });
  let readyMs: number;
  try {
    readyMs = await waitReady(port, "/healthz", started, readyTimeout, child, 2);
  } catch (error) {
    await stopChild(child, "SIGKILL", 500);
    const output = readFileSync(logPath, "utf8").trim().split("\n");
    const tail = [...output.slice(0, 4), "…", ...output.slice(-2)].join(" | ").slice(0, 1500);
    throw new Error(
      `${LABELS[id]} did not start: ${(error as Error).message}; its output: ${tail}`,
    );
  }
  const pid = child.pid ?? 0;
  return {
    id,
    target: targetFor(id, port),
    pids: () => [pid],
    readyMs,
    child,
    logPath,
    stop: () => stopChild(child, "SIGTERM", 5000),
  };
}
