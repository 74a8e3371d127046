/**
 * Throughput: non-streaming ~1 KB chat requests over 50 keep-alive connections, closed loop,
 * as fast as each contender answers. wrk (one thread) drives it when installed, else the Node
 * load generator. Rounds alternate the contenders' order; the best round of each is kept.
 * Then, where `taskset` exists, one more round each with the load generator pinned to core 0
 * while the contenders may use every core: what a proxy with several workers gains when the
 * generator cannot take a second core from it.
 */
import type { ContenderId, Running } from "../contenders.ts";
import type { ClosedResult, Target } from "../lib/jobs.ts";
import { type Pin, runWrk, writeWrkScript } from "../wrk.ts";
import {
  type BenchContext,
  eachContender,
  type FigureSpec,
  figuresOf,
  label,
  lastOf,
  measure,
  type ScenarioResult,
  withContenders,
} from "./common.ts";

const CONNECTIONS = 50;

interface Round {
  readonly rps: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly cpuUsPerRequest: number | undefined;
  readonly cpuShare: number | undefined;
  readonly fakeUsPerRequest: number;
  readonly steal: number;
  readonly busy: number;
  readonly otherCpu: number;
  readonly generator: "wrk" | "node";
}

/** The core the pinned round keeps the load generator to. */
const PINNED_CPUS = "0";

interface Drive {
  readonly rps: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly generator: "wrk" | "node";
}

/** One closed-loop run against `target`, by wrk or else the Node load generator. */
async function drive(
  ctx: BenchContext,
  contender: Running,
  seconds: number,
  pin: Pin | undefined,
): Promise<Drive> {
  const target: Target = contender.target;
  if (ctx.wrk !== undefined) {
    const script = writeWrkScript(ctx.tmp, contender.id, target);
    const r = await runWrk(ctx.wrk, script, target, CONNECTIONS, seconds, pin);
    return {
      rps: r.rps,
      requests: r.requests,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      errors: r.non2xx + r.socketErrors,
      generator: "wrk",
    };
  }
  if (pin) await ctx.load.pin(pin.taskset, pin.cpus);
  try {
    const r = await ctx.load.run<ClosedResult>(
      { kind: "closed", target, connections: CONNECTIONS, durationMs: seconds * 1000 },
      seconds * 1000 + 30_000,
    );
    return {
      rps: r.rps,
      requests: r.requests,
      p50Ms: r.latencyMs.p50,
      p99Ms: r.latencyMs.p99,
      errors: r.errors + r.non2xx,
      generator: "node",
    };
  } finally {
    if (pin) await ctx.load.pin(pin.taskset, undefined);
  }
}

export async function throughput(ctx: BenchContext): Promise<ScenarioResult> {
  const warmS = 2;
  const measureS = ctx.quick ? 2 : 5;
  const rounds = ctx.quick ? 1 : 2;
  const pin: Pin | undefined =
    ctx.taskset === undefined ? undefined : { taskset: ctx.taskset, cpus: PINNED_CPUS };
  const turn = async (contender: Running, pinned: Pin | undefined): Promise<Round> => {
    const id = contender.id;
    const m = await measure(ctx, contender, () => drive(ctx, contender, measureS, pinned));
    const r = m.result;
    const round: Round = {
      ...r,
      errors: r.errors + m.fakeRejected, // the fake refused what a contender sent it
      cpuUsPerRequest: id === "direct" ? undefined : (m.cpuMs * 1000) / Math.max(1, r.requests),
      cpuShare: id === "direct" ? undefined : m.cpuMs / m.wallMs,
      fakeUsPerRequest: (m.fakeCpuMs * 1000) / Math.max(1, m.fakeRequests),
      steal: m.steal,
      busy: m.busy,
      otherCpu: m.otherCpu,
    };
    ctx.log(
      `throughput${pinned ? ` (load generator on core ${pinned.cpus})` : ""}: ${label(id)} ${r.rps.toFixed(0)} req/s, p99 ${r.p99Ms.toFixed(2)} ms, errors ${r.errors}, contender CPU ${round.cpuUsPerRequest?.toFixed(0) ?? "—"} µs/req (${round.cpuShare === undefined ? "—" : (round.cpuShare * 100).toFixed(0)} % of a core), fake ${round.fakeUsPerRequest.toFixed(0)} µs/req, steal ${(m.steal * 100).toFixed(1)} %, other processes ${m.otherCpu.toFixed(0)} % of a core`,
    );
    return round;
  };
  const { free, pinned } = await withContenders(ctx, async (running) => {
    await eachContender(ctx, running, { pauseMs: 200 }, (contender) => {
      ctx.log(`throughput: warming ${label(contender.id)} (${warmS} s)`);
      return drive(ctx, contender, warmS, undefined);
    });
    const free = await eachContender(ctx, running, { rounds, pauseMs: 200 }, (c) =>
      turn(c, undefined),
    );
    const pinned = pin
      ? await eachContender(ctx, running, { pauseMs: 200 }, (c) => turn(c, pin))
      : new Map<ContenderId, Round[]>();
    return { free, pinned };
  });

  const best = new Map(
    [...free].map(([id, list]) => [id, list.reduce((a, b) => (b.rps > a.rps ? b : a))]),
  );
  const specs: FigureSpec<Round>[] = [
    {
      id: "throughput.rps",
      label: "Throughput, 1 KB chat, 50 conns",
      unit: "req/s",
      digits: 0,
      value: (r) => r.rps,
      target: { compare: "ge", base: "floor", factor: 0.9, text: "≥ 0.9× node floor" },
    },
    {
      id: "throughput.p99",
      label: "Throughput: latency p99 under load",
      unit: "ms",
      digits: 2,
      value: (r) => r.p99Ms,
    },
    {
      id: "throughput.cpu",
      label: "Throughput: contender CPU per request",
      unit: "µs",
      digits: 0,
      value: (r) => r.cpuUsPerRequest,
      target: { compare: "le", base: "floor", factor: 1.15, text: "≤ 1.15× node floor" },
    },
    {
      id: "throughput.fake-cpu",
      label: "Throughput: fake Azure CPU per request",
      unit: "µs",
      digits: 0,
      value: (r) => r.fakeUsPerRequest,
    },
    {
      id: "throughput.errors",
      label: "Throughput: errors (best round)",
      unit: "count",
      digits: 0,
      value: (r) => r.errors,
      target: { compare: "le", base: "abs", offset: 0, text: "0" },
    },
    {
      id: "throughput.steal",
      label: "Throughput: CPU steal during best round",
      unit: "%",
      digits: 1,
      value: (r) => r.steal * 100,
    },
    {
      id: "throughput.other-cpu",
      label: "Throughput: other processes' CPU during best round",
      unit: "% of a core",
      digits: 0,
      value: (r) => r.otherCpu,
    },
  ];
  const pinnedSpecs: FigureSpec<Round>[] = [
    {
      id: "throughput.pinned.rps",
      label: `Throughput, load generator pinned to core ${PINNED_CPUS} (taskset)`,
      unit: "req/s",
      digits: 0,
      value: (r) => r.rps,
    },
    {
      id: "throughput.pinned.cpu-share",
      label: "Throughput, pinned generator: contender CPU",
      unit: "% of a core",
      digits: 0,
      value: (r) => (r.cpuShare === undefined ? undefined : r.cpuShare * 100),
    },
    {
      id: "throughput.pinned.cpu",
      label: "Throughput, pinned generator: contender CPU per request",
      unit: "µs",
      digits: 0,
      value: (r) => r.cpuUsPerRequest,
    },
    {
      id: "throughput.pinned.errors",
      label: "Throughput, pinned generator: errors",
      unit: "count",
      digits: 0,
      value: (r) => r.errors,
      target: { compare: "le", base: "abs", offset: 0, text: "0" },
    },
  ];
  const figures = [
    ...figuresOf("throughput", best, specs),
    ...(pin ? figuresOf("throughput", lastOf(pinned), pinnedSpecs) : []),
  ];
  const notes = pin
    ? []
    : ["taskset was not found: no throughput run with the load generator pinned to one core."];
  return {
    figures,
    raw: { ...Object.fromEntries(free), pinned: Object.fromEntries(pinned) },
    notes,
  };
}
