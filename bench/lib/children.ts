/** Handles on the two helper processes every scenario uses: the fake Azure and the load generator. */
import { type ChildProcess, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import type { Job, JobAnswer } from "./jobs.ts";
import { forkTracked, stopChild } from "./proc.ts";

const BENCH = fileURLToPath(new URL("..", import.meta.url));

export interface FakeStats {
  readonly requests: number;
  readonly chat: number;
  readonly streams: number;
  readonly uploads: number;
  readonly listings: number;
  readonly rejected: number;
  /** Answered 429 (FAKE_AZURE_MODE=half-429). */
  readonly rateLimited: number;
  /** Requests whose path had no deployment (the Go proxy's uploads). */
  readonly noDeployment: number;
  readonly bytesIn: number;
  readonly openStreams: number;
  readonly peakOpenStreams: number;
  readonly cpuMs: number;
  readonly rss: number;
}

function onceMessage<T>(
  child: ChildProcess,
  test: (m: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: T) => {
      if (!test(m)) return;
      cleanup();
      resolve(m);
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${what}: process exited (${code})`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

export class FakeAzure {
  readonly child: ChildProcess;
  readonly port: number;

  private constructor(child: ChildProcess, port: number) {
    this.child = child;
    this.port = port;
  }

  /** `mode` "half-429": every other POST is answered 429 (bench/failover.ts). */
  static async start(mode: "ok" | "half-429" = "ok"): Promise<FakeAzure> {
    const env = { ...process.env, FAKE_AZURE_MODE: mode };
    const child = forkTracked(`fake-azure-${mode}`, `${BENCH}fake-azure.ts`, [], env);
    const ready = await onceMessage<{ type: string; port: number }>(
      child,
      (m) => m.type === "ready",
      10_000,
      "fake Azure",
    );
    return new FakeAzure(child, ready.port);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  async stats(): Promise<FakeStats> {
    const answer = onceMessage<FakeStats & { type: string }>(
      this.child,
      (m) => m.type === "stats",
      5000,
      "fake Azure stats",
    );
    this.child.send({ type: "stats" });
    return answer;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** An outage: the fake closes its listener and cuts every connection at once. */
  async outage(): Promise<void> {
    const done = onceMessage<{ type: string }>(
      this.child,
      (m) => m.type === "outage",
      5000,
      "fake Azure outage",
    );
    this.child.send({ type: "outage" });
    await done;
  }

  resetPeak(): void {
    this.child.send({ type: "reset-peak" });
  }

  stop(): Promise<void> {
    return stopChild(this.child, "SIGTERM", 2000);
  }
}

/** The load generator process; one job at a time. */
export class LoadGenerator {
  private child: ChildProcess | undefined;
  private nextId = 1;
  /** CPU ms the generator spent on its last job. */
  lastCpuMs = 0;

  private async ensure(): Promise<ChildProcess> {
    if (this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null)
      return this.child;
    const child = forkTracked("load-generator", `${BENCH}load.ts`);
    await onceMessage<JobAnswer>(child, (m) => m.id === 0, 10_000, "load generator");
    this.child = child;
    return child;
  }

  async run<T>(job: Job, timeoutMs: number): Promise<T> {
    const child = await this.ensure();
    const id = this.nextId++;
    const answer = onceMessage<JobAnswer>(
      child,
      (m) => m.id === id,
      timeoutMs,
      `load job ${job.kind}`,
    );
    child.send({ id, job });
    let result: JobAnswer;
    try {
      result = await answer;
    } catch (error) {
      // A stuck generator is replaced, not waited for.
      await stopChild(child, "SIGKILL", 500);
      this.child = undefined;
      throw error;
    }
    this.lastCpuMs = result.cpuMs;
    if (result.error !== undefined) throw new Error(`load job ${job.kind} failed: ${result.error}`);
    return result.result as T;
  }

  /**
   * Keeps the generator (all its threads) to `cpus` with `taskset`, or lets it use every core
   * again (`cpus` undefined). Throws when taskset fails.
   */
  async pin(taskset: string, cpus: string | undefined): Promise<void> {
    const child = await this.ensure();
    const list = cpus ?? `0-${availableParallelism() - 1}`;
    const out = spawnSync(taskset, ["-a", "-p", "-c", list, String(child.pid)], {
      encoding: "utf8",
    });
    if (out.status !== 0) throw new Error(`taskset failed: ${out.stderr.trim()}`);
  }

  async stop(): Promise<void> {
    if (this.child !== undefined) await stopChild(this.child, "SIGTERM", 2000);
    this.child = undefined;
  }
}
