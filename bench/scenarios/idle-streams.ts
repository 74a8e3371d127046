/**
 * Many idle streams: 1,000 concurrent streams of 20 chunks 200 ms apart (connections opened
 * first, requests started over one second), after a warm-up burst of 250 short streams. All must
 * complete; their duration shows whether a contender caps upstream concurrency; the fake counts
 * how many streams it had open at once; the contender's RSS is sampled throughout.
 */
import type { ContenderId } from "../contenders.ts";
import type { StreamsResult } from "../lib/jobs.ts";
import { rssOf, sampleRss, sleep } from "../lib/proc.ts";
import type { Figure } from "../report.ts";
import {
  type BenchContext,
  get,
  label,
  MB,
  measure,
  type ScenarioResult,
  withContenders,
} from "./common.ts";

const COUNT = 1000;
const INTERVAL_MS = 200;
/** Streams of the warm-up burst before each measured run. */
const WARM_COUNT = 250;

interface Row extends StreamsResult {
  readonly rssBefore: number | undefined;
  readonly rssPeak: number | undefined;
  readonly upstreamPeak: number;
}

export async function idleStreams(ctx: BenchContext): Promise<ScenarioResult> {
  const chunks = ctx.quick ? 5 : 20;
  const rampMs = ctx.quick ? 500 : 1000;
  const rows = new Map<ContenderId, Row>();
  await withContenders(ctx, async (running) => {
    for (const id of ctx.contenders) {
      const contender = get(running, id);
      const hasProcess = contender.pids().length > 0;
      // Warm the contender's connection paths (a fresh Node process runs them interpreted and
      // takes ~1 s to open its first thousand upstream connections; nginx has no JIT to warm).
      await ctx.load.run<StreamsResult>(
        {
          kind: "idle-streams",
          target: contender.target,
          count: WARM_COUNT,
          chunks: 2,
          intervalMs: 50,
          rampMs: 250,
          timeoutMs: 30_000,
        },
        60_000,
      );
      await sleep(300);
      const rssBefore = hasProcess ? rssOf(contender.pids()) : undefined;
      ctx.fake.resetPeak();
      const sampler = sampleRss(() => contender.pids(), 25);
      const m = await measure(ctx, contender, () =>
        ctx.load.run<StreamsResult>(
          {
            kind: "idle-streams",
            target: contender.target,
            count: COUNT,
            chunks,
            intervalMs: INTERVAL_MS,
            rampMs,
            timeoutMs: (chunks + 1) * INTERVAL_MS + 30_000,
          },
          (chunks + 1) * INTERVAL_MS + rampMs + 60_000,
        ),
      );
      const peak = sampler.stop();
      const r = m.result;
      rows.set(id, {
        ...r,
        rssBefore,
        rssPeak: hasProcess ? peak : undefined,
        upstreamPeak: m.fakeAfter.peakOpenStreams,
      });
      ctx.log(
        `idle streams: ${label(id)} ${r.completed}/${COUNT} complete, duration p50 ${r.durationMs.p50.toFixed(0)} ms p99 ${r.durationMs.p99.toFixed(0)} ms, upstream open at once ${m.fakeAfter.peakOpenStreams}${hasProcess ? `, RSS ${((rssBefore ?? 0) / MB) | 0} → peak ${(peak / MB).toFixed(0)} MB` : ""}${r.errors.length ? `, errors: ${r.errors.join("; ")}` : ""}`,
      );
      await sleep(500);
    }
  });
  const pick = (f: (r: Row) => number | undefined) => {
    const values: Partial<Record<ContenderId, number>> = {};
    for (const [id, r] of rows) {
      const v = f(r);
      if (v !== undefined) values[id] = v;
    }
    return values;
  };
  const scenario = "idle-streams";
  const what = `${COUNT} streams × ${chunks} chunks / ${INTERVAL_MS} ms`;
  const figures: Figure[] = [
    {
      id: "idle.completed",
      scenario,
      label: `Idle streams ${what}: completed`,
      unit: "count",
      digits: 0,
      values: pick((r) => r.completed),
      target: { compare: "ge", base: "abs", offset: COUNT, text: `all ${COUNT}` },
    },
    {
      id: "idle.upstream-peak",
      scenario,
      label: "Idle streams: open upstream at once (fake's count)",
      unit: "count",
      digits: 0,
      values: pick((r) => r.upstreamPeak),
      target: { compare: "ge", base: "abs", offset: COUNT, text: `${COUNT} (no cap)` },
    },
    {
      id: "idle.duration.p50",
      scenario,
      label: "Idle streams: duration p50",
      unit: "ms",
      digits: 0,
      values: pick((r) => r.durationMs.p50),
    },
    {
      id: "idle.duration.p99",
      scenario,
      label: "Idle streams: duration p99",
      unit: "ms",
      digits: 0,
      values: pick((r) => r.durationMs.p99),
      target: { compare: "le", base: "direct", factor: 1.05, text: "≤ 1.05× direct" },
    },
    {
      id: "idle.rss.peak",
      scenario,
      label: "Idle streams: peak RSS",
      unit: "MB",
      digits: 0,
      values: pick((r) => (r.rssPeak === undefined ? undefined : r.rssPeak / MB)),
      target: { compare: "le", base: "abs", offset: 150, text: "≤ 150 MB" },
    },
    {
      id: "idle.rss.before",
      scenario,
      label: "Idle streams: RSS before",
      unit: "MB",
      digits: 0,
      values: pick((r) => (r.rssBefore === undefined ? undefined : r.rssBefore / MB)),
    },
  ];
  return { figures, raw: Object.fromEntries(rows) };
}
