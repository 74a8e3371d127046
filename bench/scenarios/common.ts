/** What every scenario gets, and helpers to start contenders and measure around a load job. */
import {
  type ContenderId,
  LABELS,
  type Running,
  type StartOptions,
  startContender,
} from "../contenders.ts";
import type { FakeAzure, FakeStats, LoadGenerator } from "../lib/children.ts";
import { cpuMsOfAll, cpuShare, cpuTimes, ownTreeCpuMs, sleep } from "../lib/proc.ts";
import type { Figure } from "../report.ts";

export interface BenchContext {
  readonly quick: boolean;
  readonly fake: FakeAzure;
  readonly load: LoadGenerator;
  readonly tmp: string;
  readonly nginx: string | undefined;
  /** The Go proxy's binary, when it could be built. */
  readonly goProxy: string | undefined;
  readonly wrk: string | undefined;
  /** `taskset`, to pin the load generator to one core (undefined: no pinned run). */
  readonly taskset: string | undefined;
  /** In the order they run; `direct` is always possible. */
  readonly contenders: readonly ContenderId[];
  readonly proxyNodeFlags?: readonly string[];
  readonly proxyRoot: string;
  readonly proxyEnv?: Readonly<Record<string, string>>;
  /** AZURE_OPENAI_PROXY_WORKERS of the proxy-2w contender. */
  readonly proxyWorkers: number;
  log(message: string): void;
}

export interface ScenarioResult {
  readonly figures: Figure[];
  readonly raw: unknown;
  readonly notes?: string[];
}

export type Scenario = (ctx: BenchContext) => Promise<ScenarioResult>;

/** How every contender of the run is started. */
export function startOptions(ctx: BenchContext): StartOptions {
  return {
    fakePort: ctx.fake.port,
    tmp: ctx.tmp,
    nginx: ctx.nginx,
    goProxy: ctx.goProxy,
    proxyNodeFlags: ctx.proxyNodeFlags,
    proxyRoot: ctx.proxyRoot,
    proxyEnv: ctx.proxyEnv,
    proxyWorkers: ctx.proxyWorkers,
  };
}

export type RunningSet = ReadonlyMap<ContenderId, Running>;

/** Starts every contender of the run (fresh processes), runs `body`, stops them all. */
export async function withContenders<T>(
  ctx: BenchContext,
  body: (running: RunningSet) => Promise<T>,
): Promise<T> {
  const running = new Map<ContenderId, Running>();
  try {
    for (const id of ctx.contenders) running.set(id, await startContender(id, startOptions(ctx)));
    await sleep(300); // let start-up work (deployment discovery) finish
    return await body(running);
  } finally {
    await Promise.all([...running.values()].map((r) => r.stop()));
  }
}

export interface Rounds {
  /** How many times each contender is measured; orders alternate (default 1). */
  readonly rounds?: number;
  /** Pause after each contender's turn, so one's tail does not fall into the next (ms). */
  readonly pauseMs?: number;
}

/**
 * The measuring loop of every scenario: `turn` for each running contender, in `rounds`
 * interleaved orders (see `interleaved`), with a pause after each; what each turn returns is
 * kept per contender, in order.
 */
export async function eachContender<R>(
  ctx: BenchContext,
  running: RunningSet,
  plan: Rounds,
  turn: (contender: Running) => Promise<R>,
): Promise<Map<ContenderId, R[]>> {
  const results = new Map<ContenderId, R[]>();
  for (const order of interleaved(ctx.contenders, plan.rounds ?? 1)) {
    for (const id of order) {
      const result = await turn(get(running, id));
      results.set(id, [...(results.get(id) ?? []), result]);
      if (plan.pauseMs) await sleep(plan.pauseMs);
    }
  }
  return results;
}

/**
 * `eachContender` on freshly started contenders, after `warm` has run once on each of them;
 * the shape of most scenarios.
 */
export function measureEach<R>(
  ctx: BenchContext,
  plan: Rounds & { readonly warm?: (contender: Running) => Promise<unknown> },
  turn: (contender: Running) => Promise<R>,
): Promise<Map<ContenderId, R[]>> {
  return withContenders(ctx, async (running) => {
    const warm = plan.warm;
    if (warm !== undefined) await eachContender(ctx, running, { pauseMs: 200 }, warm);
    return eachContender(ctx, running, plan, turn);
  });
}

/** One value per contender for a figure; a contender `value` gives nothing for is left out. */
export function valuesOf<R>(
  rows: ReadonlyMap<ContenderId, R>,
  value: (row: R, id: ContenderId) => number | undefined,
): Partial<Record<ContenderId, number>> {
  const values: Partial<Record<ContenderId, number>> = {};
  for (const [id, row] of rows) {
    const v = value(row, id);
    if (v !== undefined) values[id] = v;
  }
  return values;
}

/** A figure as a scenario declares it: how to read its value from a contender's row. */
export interface FigureSpec<R> extends Omit<Figure, "scenario" | "values"> {
  readonly value: (row: R, id: ContenderId) => number | undefined;
}

/** A scenario's figures from its table of specs and its rows. */
export function figuresOf<R>(
  scenario: string,
  rows: ReadonlyMap<ContenderId, R>,
  specs: readonly FigureSpec<R>[],
): Figure[] {
  return specs.map(({ value, ...figure }) => ({
    ...figure,
    scenario,
    values: valuesOf(rows, value),
  }));
}

/** Each contender's only (or last) result. */
export function lastOf<R>(results: ReadonlyMap<ContenderId, readonly R[]>): Map<ContenderId, R> {
  return new Map([...results].map(([id, list]) => [id, list[list.length - 1] as R]));
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
