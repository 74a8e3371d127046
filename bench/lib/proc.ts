/**
 * Process bookkeeping for the benchmark: every child is registered here so that one call (from a
 * `finally`, a signal or the watchdog) stops them all, by pid or by the process group we created.
 * Also the /proc readers (RSS, CPU time, steal) the scenarios sample.
 */
import { type ChildProcess, fork, type SpawnOptions, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";

interface Tracked {
  readonly name: string;
  readonly child: ChildProcess;
  /** True when the child leads its own process group (spawned detached). */
  readonly group: boolean;
}

const children = new Set<Tracked>();

export function track(name: string, child: ChildProcess, group: boolean): ChildProcess {
  const entry = { name, child, group };
  children.add(entry);
  child.once("exit", () => children.delete(entry));
  return child;
}

/** Spawns a program in its own process group (so its workers can be stopped with it). */
export function spawnTracked(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  return track(name, child, true);
}

/** Forks a TypeScript module of the bench with an IPC channel, on this Node. */
export function forkTracked(
  name: string,
  module: string,
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): ChildProcess {
  const child = fork(module, args, {
    execPath: process.execPath,
    execArgv: [],
    env,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    detached: true,
  });
  return track(name, child, true);
}

function signal(entry: Tracked, sig: NodeJS.Signals): void {
  const pid = entry.child.pid;
  if (pid === undefined) return;
  try {
    if (entry.group) process.kill(-pid, sig);
    else process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Sends `sig`, waits up to `graceMs`, then SIGKILLs the child's group. */
export async function stopChild(
  child: ChildProcess,
  sig: NodeJS.Signals = "SIGTERM",
  graceMs = 3000,
): Promise<void> {
  const entry = [...children].find((e) => e.child === child);
  if (entry === undefined || exited(child)) {
    // Its group may still hold workers (nginx) whose leader is gone.
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }
    return;
  }
  const done = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  signal(entry, sig);
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), graceMs));
  if ((await Promise.race([done, timer])) === "timeout") {
    signal(entry, "SIGKILL");
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 1000))]);
  }
  if (entry.group && child.pid !== undefined) {
    try {
      process.kill(-child.pid, "SIGKILL"); // leftovers of the group, if any
    } catch {}
  }
}

/** Stops every child still running: SIGTERM, a short grace, then SIGKILL. */
export async function stopAll(graceMs = 2000): Promise<void> {
  await Promise.all([...children].map((e) => stopChild(e.child, "SIGTERM", graceMs)));
}

/** Last resort on process exit: synchronous SIGKILL of every group still registered. */
export function killAllNow(): void {
  for (const entry of children) signal(entry, "SIGKILL");
}

export function runningChildren(): string[] {
  return [...children].map((e) => `${e.name}(${e.child.pid})`);
}

/** A free TCP port on 127.0.0.1 (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One GET on loopback; resolves with the status, or undefined when nothing answered. */
export function probe(port: number, path: string, timeoutMs = 1000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: "GET", agent: false, timeout: timeoutMs },
      (res) => {
        res.resume();
        res.once("end", () => resolve(res.statusCode));
        res.once("error", () => resolve(undefined));
      },
    );
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve(undefined));
    req.end();
  });
}

/** Polls until `path` answers 200; returns ms since `since` (performance.now()), or throws. */
export async function waitReady(
  port: number,
  path: string,
  since: number,
  timeoutMs: number,
  child?: ChildProcess,
  everyMs = 5,
): Promise<number> {
  for (;;) {
    const status = await probe(port, path, 500);
    const now = performance.now();
    if (status === 200) return now - since;
    if (child !== undefined && exited(child)) {
      throw new Error(`process exited (code ${child.exitCode}) before ${path} answered`);
    }
    if (now - since > timeoutMs)
      throw new Error(`${path} on port ${port} not ready after ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resident set size and its high-water mark, in bytes, of one process. */
export function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "latin1");
    const rss = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    if (rss === undefined) return undefined;
    return { rss: Number(rss) * 1024, hwm: Number(hwm ?? rss) * 1024 };
  } catch {
    return undefined;
  }
}

/** Sum of RSS over several processes (nginx: master and workers). */
export function rssOf(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += memoryOf(pid)?.rss ?? 0;
  return total;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** User + system CPU time of a process, in ms (all its threads). */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

export function cpuMsOfAll(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += cpuMsOf(pid);
  return total;
}

/** Direct children of a process (nginx workers of the master). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "latin1")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

export interface CpuTimes {
  readonly total: number;
  readonly steal: number;
  readonly idle: number;
  /** user + nice + system, in ticks (irq and softirq left out). */
  readonly tasks: number;
}

/** Aggregate CPU counters from /proc/stat (in ticks). */
export function cpuTimes(): CpuTimes {
  const line = readFileSync("/proc/stat", "latin1").split("\n", 1)[0] ?? "";
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return {
    total,
    steal: v[7] ?? 0,
    idle: (v[3] ?? 0) + (v[4] ?? 0),
    tasks: (v[0] ?? 0) + (v[1] ?? 0) + (v[2] ?? 0),
  };
}

/**
 * CPU time (ms) of this process tree: every live descendant's own time, plus what reaped
 * children (wrk, earlier contenders) left in each live process's cutime/cstime.
 */
export function ownTreeCpuMs(): number {
  const parents = new Map<number, number>();
  const times = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parents.set(pid, Number(f[1]));
      times.set(pid, (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_MS);
    } catch {}
  }
  let total = 0;
  for (const [pid, ms] of times) {
    for (
      let p: number | undefined = pid, depth = 0;
      p !== undefined && p > 1 && depth < 20;
      depth++
    ) {
      if (p === process.pid) {
        total += ms;
        break;
      }
      p = parents.get(p);
    }
  }
  return total;
}

/** Steal and busy share (0..1) between two /proc/stat readings. */
export function cpuShare(before: CpuTimes, after: CpuTimes): { steal: number; busy: number } {
  const total = after.total - before.total;
  if (total <= 0) return { steal: 0, busy: 0 };
  return {
    steal: (after.steal - before.steal) / total,
    busy: 1 - (after.idle - before.idle) / total,
  };
}

/** Samples the RSS of some processes every `everyMs` until stopped; returns the peak. */
export function sampleRss(pids: () => readonly number[], everyMs = 25) {
  let peak = rssOf(pids());
  const timer = setInterval(() => {
    const rss = rssOf(pids());
    if (rss > peak) peak = rss;
  }, everyMs);
  return {
    stop(): number {
      clearInterval(timer);
      const rss = rssOf(pids());
      if (rss > peak) peak = rss;
      return peak;
    },
  };
}
