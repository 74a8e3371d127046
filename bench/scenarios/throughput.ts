/**
 * Throughput: non-streaming ~1 KB chat requests over 50 keep-alive connections, closed loop,
 * as fast as each contender answers. wrk (one thread) drives it when installed, else the Node
 * load generator. Rounds alternate the contenders' order; the best round of each is kept.
 */
import type { ContenderId } from "../contenders.ts";
import type { ClosedResult } from "../lib/jobs.ts";
import { sleep } from "../lib/proc.ts";
import type { Figure } from "../report.ts";
import { runWrk, writeWrkScript } from "../wrk.ts";
import {
  type BenchContext,
  get,
  interleaved,
  label,
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

export async function throughput(ctx: BenchContext): Promise<ScenarioResult> {
  const warmS = 2;
  const measureS = ctx.quick ? 2 : 5;
  const rounds = ctx.quick ? 1 : 2;
  const rows = new Map<ContenderId, Round[]>();
  await withContenders(ctx, async (running) => {
    const drive = async (id: ContenderId, seconds: number) => {
      const target = get(running, id).target;
      if (ctx.wrk !== undefined) {
        const script = writeWrkScript(ctx.tmp, id, target);
        const r = await runWrk(ctx.wrk, script, target, CONNECTIONS, seconds);
        return {
          rps: r.rps,
          requests: r.requests,
          p50Ms: r.p50Ms,
          p99Ms: r.p99Ms,
          errors: r.non2xx + r.socketErrors,
          generator: "wrk" as const,
        };
      }
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
        generator: "node" as const,
      };
    };
    for (const id of ctx.contenders) {
      ctx.log(`throughput: warming ${label(id)} (${warmS} s)`);
      await drive(id, warmS);
      await sleep(200);
    }
    for (const order of interleaved(ctx.contenders, rounds)) {
      for (const id of order) {
        const contender = get(running, id);
        const m = await measure(ctx, contender, () => drive(id, measureS));
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
        rows.set(id, [...(rows.get(id) ?? []), round]);
        ctx.log(
          `throughput: ${label(id)} ${r.rps.toFixed(0)} req/s, p99 ${r.p99Ms.toFixed(2)} ms, errors ${r.errors}, contender CPU ${round.cpuUsPerRequest?.toFixed(0) ?? "—"} µs/req, fake ${round.fakeUsPerRequest.toFixed(0)} µs/req, steal ${(m.steal * 100).toFixed(1)} %, other processes ${m.otherCpu.toFixed(0)} % of a core`,
        );
        await sleep(200);
      }
    }
  });

  const best = new Map<ContenderId, Round>();
  for (const [id, list] of rows) {
    best.set(
      id,
      list.reduce((a, b) => (b.rps > a.rps ? b : a)),
    );
  }
  const pick = (f: (r: Round) => number | undefined) => {
    const values: Partial<Record<ContenderId, number>> = {};
    for (const [id, r] of best) {
      const v = f(r);
      if (v !== undefined) values[id] = v;
    }
    return values;
  };
  const figures: Figure[] = [
    {
      id: "throughput.rps",
      scenario: "throughput",
      label: "Throughput, 1 KB chat, 50 conns",
      unit: "req/s",
      digits: 0,
      values: pick((r) => r.rps),
      target: { compare: "ge", base: "floor", factor: 0.85, text: "≥ 0.85× node floor" },
    },
    {
      id: "throughput.p99",
      scenario: "throughput",
      label: "Throughput: latency p99 under load",
      unit: "ms",
      digits: 2,
      values: pick((r) => r.p99Ms),
    },
    {
      id: "throughput.cpu",
      scenario: "throughput",
      label: "Throughput: contender CPU per request",
      unit: "µs",
      digits: 0,
      values: pick((r) => r.cpuUsPerRequest),
    },
    {
      id: "throughput.fake-cpu",
      scenario: "throughput",
      label: "Throughput: fake Azure CPU per request",
      unit: "µs",
      digits: 0,
      values: pick((r) => r.fakeUsPerRequest),
    },
    {
      id: "throughput.errors",
      scenario: "throughput",
      label: "Throughput: errors (best round)",
      unit: "count",
      digits: 0,
      values: pick((r) => r.errors),
      target: { compare: "le", base: "abs", offset: 0, text: "0" },
    },
    {
      id: "throughput.steal",
      scenario: "throughput",
      label: "Throughput: CPU steal during best round",
      unit: "%",
      digits: 1,
      values: pick((r) => r.steal * 100),
    },
    {
      id: "throughput.other-cpu",
      scenario: "throughput",
      label: "Throughput: other processes' CPU during best round",
      unit: "% of a core",
      digits: 0,
      values: pick((r) => r.otherCpu),
    },
  ];
  return { figures, raw: Object.fromEntries(rows) };
}
