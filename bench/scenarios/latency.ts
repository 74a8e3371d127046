/**
 * Added latency at a fixed rate: an open-loop schedule (request i is due at t0 + i/rate) and
 * latency measured from the scheduled time, so a stall is paid by every request it delays (no
 * coordinated omission). 1,000 req/s is the issue's rate; the full run adds 300 req/s, where no
 * Node contender is near saturation on a small machine. Rounds alternate the contenders' order;
 * samples of all rounds pool.
 */
import type { ContenderId, Running } from "../contenders.ts";
import type { RateResult } from "../lib/jobs.ts";
import { type Summary, summarize } from "../lib/stats.ts";
import type { Figure } from "../report.ts";
import {
  type BenchContext,
  eachContender,
  label,
  measure,
  type ScenarioResult,
  valuesOf,
  withContenders,
} from "./common.ts";

const TARGET_RATE = 1000;
const CONNECTIONS = 50;

interface Row {
  latency: number[];
  service: Summary[];
  late: Summary[];
  scheduled: number;
  completed: number;
  errors: number;
  cpuMs: number;
  wallMs: number;
  steal: number[];
  otherCpu: number[];
}

function newRow(): Row {
  return {
    latency: [],
    service: [],
    late: [],
    scheduled: 0,
    completed: 0,
    errors: 0,
    cpuMs: 0,
    wallMs: 0,
    steal: [],
    otherCpu: [],
  };
}

export async function latency(ctx: BenchContext): Promise<ScenarioResult> {
  const warmMs = ctx.quick ? 500 : 1500;
  const plan = ctx.quick
    ? [{ rate: TARGET_RATE, rounds: 1, measureMs: 2000 }]
    : [
        { rate: TARGET_RATE, rounds: 2, measureMs: 4000 },
        { rate: 300, rounds: 1, measureMs: 4000 },
      ];
  const rows = new Map<number, Map<ContenderId, Row>>();
  await withContenders(ctx, async (running) => {
    const job = (contender: Running, rate: number, durationMs: number) => ({
      kind: "rate" as const,
      target: contender.target,
      rate,
      durationMs,
      connections: CONNECTIONS,
    });
    await eachContender(ctx, running, {}, (contender) => {
      ctx.log(`latency: warming ${label(contender.id)}`);
      return ctx.load.run<RateResult>(job(contender, TARGET_RATE, warmMs), warmMs + 30_000);
    });
    for (const { rate, rounds, measureMs } of plan) {
      const turns = await eachContender(ctx, running, { rounds, pauseMs: 200 }, async (c) => {
        const m = await measure(ctx, c, () =>
          ctx.load.run<RateResult>(job(c, rate, measureMs), measureMs + 40_000),
        );
        const r = m.result;
        const s = summarize(r.latencyMs);
        ctx.log(
          `latency ${rate}/s: ${label(c.id)} p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, max ${s.max.toFixed(1)} ms, errors ${r.errors}, contender CPU ${c.id === "direct" ? "—" : `${((m.cpuMs / m.wallMs) * 100).toFixed(0)} %`}, generator late p99 ${r.lateMs.p99.toFixed(2)} ms, steal ${(m.steal * 100).toFixed(1)} %, other processes ${m.otherCpu.toFixed(0)} % of a core`,
        );
        return m;
      });
      const byContender = new Map<ContenderId, Row>();
      for (const [id, list] of turns) {
        const row = newRow();
        for (const m of list) {
          const r = m.result;
          row.latency.push(...r.latencyMs);
          row.service.push(r.serviceMs);
          row.late.push(r.lateMs);
          row.scheduled += r.scheduled;
          row.completed += r.completed;
          row.errors += r.errors + r.non2xx + m.fakeRejected;
          row.cpuMs += m.cpuMs;
          row.wallMs += m.wallMs;
          row.steal.push(m.steal);
          row.otherCpu.push(m.otherCpu);
        }
        byContender.set(id, row);
      }
      rows.set(rate, byContender);
    }
  });

  const figures: Figure[] = [];
  const raw: Record<string, unknown> = {};
  for (const [rate, byContender] of rows) {
    const summaries = new Map<ContenderId, Summary>();
    for (const [id, row] of byContender) summaries.set(id, summarize(row.latency));
    const pick = (f: (s: Summary, row: Row, id: ContenderId) => number | undefined) =>
      valuesOf(byContender, (row, id) => f(summaries.get(id) as Summary, row, id));
    const main = rate === TARGET_RATE;
    const scenario = "latency";
    figures.push(
      {
        id: `latency.${rate}.p50`,
        scenario,
        label: `Latency at ${rate} req/s: p50`,
        unit: "ms",
        digits: 2,
        values: pick((s) => s.p50),
        ...(main
          ? {
              target: {
                compare: "le",
                base: "direct",
                offset: 0.3,
                text: "≤ direct + 0.3 ms",
              } as const,
            }
          : {}),
      },
      {
        id: `latency.${rate}.p99`,
        scenario,
        label: `Latency at ${rate} req/s: p99`,
        unit: "ms",
        digits: 2,
        values: pick((s) => s.p99),
        ...(main
          ? {
              target: {
                compare: "le",
                base: "direct",
                offset: 1.5,
                text: "≤ direct + 1.5 ms",
              } as const,
            }
          : {}),
      },
    );
    if (main) {
      figures.push({
        id: `latency.${rate}.p999`,
        scenario,
        label: `Latency at ${rate} req/s: p99.9`,
        unit: "ms",
        digits: 2,
        values: pick((s) => s.p999),
      });
    }
    figures.push(
      {
        id: `latency.${rate}.other-cpu`,
        scenario,
        label: `Latency at ${rate} req/s: other processes' CPU (max of rounds)`,
        unit: "% of a core",
        digits: 0,
        values: pick((_, row) => Math.max(...row.otherCpu)),
      },
      {
        id: `latency.${rate}.cpu`,
        scenario,
        label: `Latency at ${rate} req/s: contender CPU`,
        unit: "% of a core",
        digits: 1,
        values: pick((_, row, id) =>
          id === "direct" || row.wallMs <= 0 ? undefined : (row.cpuMs / row.wallMs) * 100,
        ),
      },
      {
        id: `latency.${rate}.errors`,
        scenario,
        label: `Latency at ${rate} req/s: errors`,
        unit: "count",
        digits: 0,
        values: pick((_, row) => row.errors),
        target: { compare: "le", base: "abs", offset: 0, text: "0" },
      },
    );
    raw[String(rate)] = Object.fromEntries(
      [...byContender].map(([id, row]) => [
        id,
        {
          latencyMs: summaries.get(id),
          serviceMs: row.service,
          generatorLateMs: row.late,
          scheduled: row.scheduled,
          completed: row.completed,
          errors: row.errors,
          cpuShare: row.wallMs > 0 ? row.cpuMs / row.wallMs : undefined,
          steal: row.steal,
          otherCpu: row.otherCpu,
        },
      ]),
    );
  }
  return { figures, raw };
}
