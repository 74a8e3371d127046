/**
 * wrk (Debian package) for raw closed-loop throughput: one thread, N connections, a Lua script
 * that posts the ~1 KB chat body with the SDK's headers. Installed when missing; the Node load
 * generator is the fallback.
 */
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Target } from "./lib/jobs.ts";
import { chatBody } from "./lib/payloads.ts";
import { track } from "./lib/proc.ts";

export function findWrk(): string | undefined {
  const found = spawnSync("sh", ["-c", "command -v wrk"], { encoding: "utf8" });
  const path = found.stdout.trim();
  return found.status === 0 && path !== "" ? path : undefined;
}

export function wrkVersion(binary: string): string {
  const out = spawnSync(binary, ["-v"], { encoding: "utf8" });
  return `${out.stdout}${out.stderr}`.split("\n")[0]?.trim() ?? "unknown";
}

function luaString(text: string): string {
  return `[==[${text}]==]`;
}

/** Writes the request script for one target; returns its path. */
export function writeWrkScript(dir: string, name: string, target: Target): string {
  const lines = [
    'wrk.method = "POST"',
    `wrk.body = ${luaString(chatBody(false).toString("utf8"))}`,
  ];
  for (const [header, value] of Object.entries(target.headers)) {
    lines.push(`wrk.headers[ ${luaString(header)} ] = ${luaString(value)}`);
  }
  const path = join(dir, `wrk-${name}.lua`);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

export interface WrkResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly socketErrors: number;
  readonly raw: string;
}

function toMs(value: string, unit: string): number {
  const v = Number(value);
  if (unit === "us") return v / 1000;
  if (unit === "s") return v * 1000;
  if (unit === "m") return v * 60_000;
  return v;
}

export function parseWrk(out: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const pct = (p: string) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s|m)`).exec(out);
    return m ? toMs(m[1] as string, m[2] as string) : Number.NaN;
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return { requests, rps, p50Ms: pct("50"), p99Ms: pct("99"), non2xx, socketErrors, raw: out };
}

/** Run under `taskset -c <cpus>`: the load generator kept to those cores. */
export interface Pin {
  readonly taskset: string;
  readonly cpus: string;
}

/** Runs wrk against `target` for `seconds`; rejects if it does not finish in time. */
export function runWrk(
  binary: string,
  script: string,
  target: Target,
  connections: number,
  seconds: number,
  pin?: Pin,
): Promise<WrkResult> {
  const url = `http://${target.host}:${target.port}${target.chatPath}`;
  const args = [
    "-t1",
    `-c${connections}`,
    `-d${seconds}s`,
    "--latency",
    "--timeout",
    "10s",
    "-s",
    script,
    url,
  ];
  return new Promise((resolve, reject) => {
    const [command, argv] = pin ? [pin.taskset, ["-c", pin.cpus, binary, ...args]] : [binary, args];
    const child = track("wrk", spawn(command, argv, { stdio: ["ignore", "pipe", "pipe"] }), false);
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), (seconds + 15) * 1000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`wrk exited ${code}: ${out.trim().slice(-300)}`));
      else resolve(parseWrk(out));
    });
    child.once("error", reject);
  });
}
