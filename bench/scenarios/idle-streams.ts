/**
 * Many idle streams: 1,000 concurrent streams of 20 chunks 200 ms apart (connections opened
 * first, requests started over one second), after a warm-up burst of 250 short streams. All must
 * complete; their duration shows whether a contender caps upstream concurrency; the fake counts
 * how many streams it had open at once; the contender's RSS is sampled throughout.
 */
import type { StreamsResult } from "../lib/jobs.ts";
import { rssOf, sampleRss, sleep } from "../lib/proc.ts";
import {
  type BenchContext,
  type FigureSpec,
  figuresOf,
  label,
  lastOf,
  MB,
  measure,
  measureEach,
  type ScenarioResult,
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
  const results = await measureEach(ctx, { pauseMs: 500 }, async (contender): Promise<Row> => {
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
    ctx.log(
      `idle streams: ${label(contender.id)} ${r.completed}/${COUNT} complete, duration p50 ${r.durationMs.p50.toFixed(0)} ms p99 ${r.durationMs.p99.toFixed(0)} ms, upstream open at once ${m.fakeAfter.peakOpenStreams}${hasProcess ? `, RSS ${((rssBefore ?? 0) / MB) | 0} → peak ${(peak / MB).toFixed(0)} MB` : ""}${r.errors.length ? `, errors: ${r.errors.join("; ")}` : ""}`,
    );
    return {
      ...r,
      rssBefore,
      rssPeak: hasProcess ? peak : undefined,
      upstreamPeak: m.fakeAfter.peakOpenStreams,
    };
  });
  const rows = lastOf(results);
  const what = `${COUNT} streams × ${chunks} chunks / ${INTERVAL_MS} ms`;
  const specs: FigureSpec<Row>[] = [
    {
      id: "idle.completed",
      label: `Idle streams ${what}: completed`,
      unit: "count",
      digits: 0,
      value: (r) => r.completed,
      target: { compare: "ge", base: "abs", offset: COUNT, text: `all ${COUNT}` },
    },
    {
      id: "idle.upstream-peak",
      label: "Idle streams: open upstream at once (fake's count)",
      unit: "count",
      digits: 0,
      value: (r) => r.upstreamPeak,
      target: { compare: "ge", base: "abs", offset: COUNT, text: `${COUNT} (no cap)` },
    },
    {
      id: "idle.duration.p50",
      label: "Idle streams: duration p50",
      unit: "ms",
      digits: 0,
      value: (r) => r.durationMs.p50,
    },
    {
      id: "idle.duration.p99",
      label: "Idle streams: duration p99",
      unit: "ms",
      digits: 0,
      value: (r) => r.durationMs.p99,
      target: { compare: "le", base: "direct", factor: 1.05, text: "≤ 1.05× direct" },
    },
    {
      id: "idle.rss.peak",
      label: "Idle streams: peak RSS",
      unit: "MB",
      digits: 0,
      value: (r) => (r.rssPeak === undefined ? undefined : r.rssPeak / MB),
      target: { compare: "le", base: "abs", offset: 150, text: "≤ 150 MB" },
    },
    {
      id: "idle.rss.before",
      label: "Idle streams: RSS before",
      unit: "MB",
      digits: 0,
      value: (r) => (r.rssBefore === undefined ? undefined : r.rssBefore / MB),
    },
  ];
  return { figures: figuresOf("idle-streams", rows, specs), raw: Object.fromEntries(rows) };
}
