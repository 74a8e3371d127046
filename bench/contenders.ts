/**
 * The contenders, each reachable as a load target:
 *   direct   — the fake Azure path itself (the limit);
 *   nginx    — the Debian nginx as a rewriting reverse proxy (the best C proxy);
 *   floor    — bench/node-floor.ts (node:http + undici, no features: the Node floor);
 *   go-proxy — the original Go proxy users switch from (bench/go-proxy.ts builds it);
 *   proxy    — azure-oai-proxy, started as users start it: `node src/main.ts` with env;
 *   proxy-2w — the same with AZURE_OPENAI_PROXY_WORKERS (2, or `--workers=N`).
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Target } from "./lib/jobs.ts";
import {
  AZURE_CHAT_PATH,
  AZURE_KEY,
  AZURE_TRANSCRIBE_PATH,
  CLIENT_KEY,
  OPENAI_CHAT_PATH,
  OPENAI_TRANSCRIBE_PATH,
  SDK_HEADERS,
} from "./lib/payloads.ts";
import { childPids, freePort, spawnTracked, stopChild, waitReady } from "./lib/proc.ts";
import { nginxArgs, writeNginxConfig } from "./nginx.ts";

export const CONTENDERS = ["direct", "nginx", "floor", "go-proxy", "proxy", "proxy-2w"] as const;
export type ContenderId = (typeof CONTENDERS)[number];

export const LABELS: Readonly<Record<ContenderId, string>> = {
  direct: "direct",
  nginx: "nginx",
  floor: "node floor",
  "go-proxy": "go-proxy",
  proxy: "azure-oai-proxy",
  "proxy-2w": "azure-oai-proxy 2w",
};

/** The setting the lead's request-path work adds (issue 14); proxy-2w sets it. */
export const WORKERS_SETTING = "AZURE_OPENAI_PROXY_WORKERS";

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
  /** The Go proxy's binary (bench/go-proxy.ts), when it could be built. */
  readonly goProxy?: string;
  /** Where azure-oai-proxy's src/ and package.json are (the repo, or a snapshot of a git ref). */
  readonly proxyRoot?: string;
  /** Extra environment for azure-oai-proxy (experiments, e.g. LOG_LEVEL=warn). */
  readonly proxyEnv?: Readonly<Record<string, string>>;
  /** Extra node flags for azure-oai-proxy (e.g. --cpu-prof). */
  readonly proxyNodeFlags?: readonly string[];
  /** AZURE_OPENAI_PROXY_WORKERS of proxy-2w (default 2). */
  readonly proxyWorkers?: number;
  readonly readyTimeoutMs?: number;
}

/**
 * How a client reaches each contender: direct speaks Azure (paths and `api-key`); the others
 * speak OpenAI. The Go proxy has no key of its own and forwards the client's Bearer token as
 * Azure's `api-key`, so its clients hold the Azure key; ours hold a client key.
 */
const CREDENTIALS: Readonly<Record<ContenderId, Record<string, string>>> = {
  direct: { "api-key": AZURE_KEY },
  nginx: { authorization: `Bearer ${CLIENT_KEY}` },
  floor: { authorization: `Bearer ${CLIENT_KEY}` },
  "go-proxy": { authorization: `Bearer ${AZURE_KEY}` },
  proxy: { authorization: `Bearer ${CLIENT_KEY}` },
  "proxy-2w": { authorization: `Bearer ${CLIENT_KEY}` },
};

function targetFor(id: ContenderId, port: number): Target {
  const direct = id === "direct";
  return {
    host: "127.0.0.1",
    port,
    chatPath: direct ? AZURE_CHAT_PATH : OPENAI_CHAT_PATH,
    uploadPath: direct ? AZURE_TRANSCRIBE_PATH : OPENAI_TRANSCRIBE_PATH,
    headers: { ...SDK_HEADERS, ...CREDENTIALS[id] },
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

/** What to spawn for a contender that is one program writing to a log file. */
interface Launch {
  readonly command: string;
  readonly args: string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Its workers are its children (node:cluster), counted with it. */
  readonly withChildren: boolean;
}

function proxyLaunch(
  options: StartOptions,
  port: number,
  extraEnv: Record<string, string>,
): Launch {
  const root = options.proxyRoot ?? REPO;
  const args = [...START_FLAGS, ...(options.proxyNodeFlags ?? []), "src/main.ts"];
  let cwd = root;
  // A developer's .env would change what is measured: start from a clean directory then.
  if (existsSync(join(root, ".env"))) {
    cwd = options.tmp;
    args[args.length - 1] = join(root, "src/main.ts");
  }
  return {
    command: process.execPath,
    args,
    cwd,
    env: {
      ...baseEnv(),
      AZURE_OPENAI_ENDPOINT: `http://127.0.0.1:${options.fakePort}`,
      AZURE_OPENAI_API_KEY: AZURE_KEY,
      AZURE_OPENAI_PROXY_ADDRESS: `127.0.0.1:${port}`,
      NODE_ENV: "production",
      ...extraEnv,
      ...options.proxyEnv,
    },
    withChildren: true,
  };
}

/** The program behind each spawned contender (nginx, with its own config and log, apart). */
const LAUNCHES: Readonly<
  Record<
    "floor" | "go-proxy" | "proxy" | "proxy-2w",
    (o: StartOptions, port: number, n: number) => Launch
  >
> = {
  floor: (o, port) => ({
    command: process.execPath,
    args: [join(REPO, "bench/node-floor.ts")],
    cwd: REPO,
    env: {
      ...baseEnv(),
      UPSTREAM: `http://127.0.0.1:${o.fakePort}`,
      AZURE_KEY,
      PORT: String(port),
    },
    withChildren: false,
  }),
  "go-proxy": (o, port, n) => {
    if (o.goProxy === undefined) throw new Error("the Go proxy could not be built");
    // An empty working directory: it loads `.env` from there.
    const cwd = join(o.tmp, `go-proxy-${n}`);
    mkdirSync(cwd, { recursive: true });
    return {
      command: o.goProxy,
      args: [],
      cwd,
      env: {
        ...baseEnv(),
        AZURE_OPENAI_ENDPOINT: `http://127.0.0.1:${o.fakePort}`,
        AZURE_OPENAI_PROXY_ADDRESS: `127.0.0.1:${port}`,
      },
      withChildren: false,
    };
  },
  proxy: (o, port) => proxyLaunch(o, port, {}),
  "proxy-2w": (o, port) => proxyLaunch(o, port, { [WORKERS_SETTING]: String(o.proxyWorkers ?? 2) }),
};

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

  const launch = LAUNCHES[id](options, port, n);
  const logPath = join(options.tmp, `${id}-${n}.log`);
  const out = openSync(logPath, "a");
  const started = performance.now();
  const child = spawnTracked(id, launch.command, launch.args, {
    cwd: launch.cwd,
    env: launch.env,
    stdio: ["ignore", out, out],
  });
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
    pids: () => (launch.withChildren ? [pid, ...childPids(pid)] : [pid]),
    readyMs,
    child,
    logPath,
    stop: () => stopChild(child, "SIGTERM", 5000),
  };
}
