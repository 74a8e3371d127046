/** What every scenario gets, and helpers to start contenders and measure around a load job. */
import { type ContenderId, LABELS, type Running, startContender } from "../contenders.ts";
import type { FakeAzure, FakeStats, LoadGenerator } from "../lib/children.ts";
import { cpuMsOfAll, cpuShare, cpuTimes, ownTreeCpuMs, sleep } from "../lib/proc.ts";
import type { Figure } from "../report.ts";

export interface BenchContext {
  readonly quick: boolean;
  readonly fake: FakeAzure;
  readonly load: LoadGenerator;
  readonly tmp: string;
  readonly nginx: string | undefined;
  readonly wrk: string | undefined;
  /** In the order they run; `direct` is always possible. */
  readonly contenders: readonly ContenderId[];
  readonly proxyNodeFlags?: readonly string[];
  readonly proxyRoot: string;
  readonly proxyEnv?: Readonly<Record<string, string>>;
  log(message: string): void;
}

export interface ScenarioResult {
  readonly figures: Figure[];
  readonly raw: unknown;
  readonly notes?: string[];
}

export type Scenario = (ctx: BenchContext) => Promise<ScenarioResult>;

/** Starts every contender of the run (fresh processes), runs `body`, stops them all. */
export async function withContenders<T>(
  ctx: BenchContext,
  body: (running: ReadonlyMap<ContenderId, Running>) => Promise<T>,
): Promise<T> {
  const running = new Map<ContenderId, Running>();
  try {
    for (const id of ctx.contenders) {
      running.set(
        id,
        await startContender(id, {
          fakePort: ctx.fake.port,
          tmp: ctx.tmp,
          nginx: ctx.nginx,
          proxyNodeFlags: ctx.proxyNodeFlags,
          proxyRoot: ctx.proxyRoot,
          proxyEnv: ctx.proxyEnv,
        }),
      );
    }
    await sleep(300); // let start-up work (deployment discovery) finish
    return await body(running);
  } finally {
    await Promise.all([...running.values()].map((r) => r.stop()));
  }
}

export interface Measured<T> {
  readonly result: T;
  readonly wallMs: number;
  /** CPU time of the contender's processes. */
  readonly cpuMs: number;
  readonly fakeCpuMs: number;
  readonly fakeRequests: number;
  readonly fakeRejected: number;
  readonly fakeAfter: FakeStats;
  readonly steal: number;
  readonly busy: number;
  /** CPU used by processes outside the bench while it ran, in % of one core (noise). */
  readonly otherCpu: number;
}

/** Monotonic clock in µs, the clock of V8's CPU profiles. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Every measured interval, per contender (to cut CPU profiles down to what was measured). */
export const measuredWindows: {
  id: ContenderId;
  startUs: number;
  endUs: number;
  requests: number;
}[] = [];

/** Runs `work` and records the contender's and the fake's CPU and the machine's steal around it. */
export async function measure<T>(
  ctx: BenchContext,
  contender: Running,
  work: () => Promise<T>,
): Promise<Measured<T>> {
  const fake0 = await ctx.fake.stats();
  const own0 = ownTreeCpuMs();
  const cpu0 = cpuMsOfAll(contender.pids());
  const sys0 = cpuTimes();
  const t0 = performance.now();
  const startUs = monotonicUs();
  const result = await work();
  const endUs = monotonicUs();
  const wallMs = performance.now() - t0;
  const sys1 = cpuTimes();
  const own1 = ownTreeCpuMs();
  const cpu1 = cpuMsOfAll(contender.pids());
  const fake1 = await ctx.fake.stats();
  const share = cpuShare(sys0, sys1);
  measuredWindows.push({
    id: contender.id,
    startUs,
    endUs,
    requests: fake1.requests - fake0.requests,
  });
  return {
    result,
    wallMs,
    cpuMs: cpu1 - cpu0,
    fakeCpuMs: fake1.cpuMs - fake0.cpuMs,
    fakeRequests: fake1.requests - fake0.requests,
    fakeRejected: fake1.rejected - fake0.rejected,
    fakeAfter: fake1,
    steal: share.steal,
    busy: share.busy,
    otherCpu: Math.max(0, ((sys1.tasks - sys0.tasks) * 10 - (own1 - own0)) / wallMs) * 100,
  };
}

export function label(id: ContenderId): string {
  return LABELS[id];
}

/** `ids` in order, then reversed: each contender gets an early and a late slot. */
export function interleaved<T>(ids: readonly T[], rounds: number): T[][] {
  return Array.from({ length: rounds }, (_, r) => (r % 2 === 0 ? [...ids] : [...ids].reverse()));
}

export function get<T>(map: ReadonlyMap<ContenderId, T>, id: ContenderId): T {
  const value = map.get(id);
  if (value === undefined) throw new Error(`${id} is not running`);
  return value;
}

export const MB = 1024 * 1024;
