/**
 * Streaming: 200 concurrent SSE streams (closed loop, starts spread over one stream length),
 * each Azure's prompt-filter event then 40 chunks 10 ms apart and [DONE]. Measured at the client,
 * read by read: time to the first content chunk, streams where one read carried two events
 * (coalesced), and the gaps between consecutive chunks.
 */
import type { StreamsResult } from "../lib/jobs.ts";
import {
  type BenchContext,
  type FigureSpec,
  figuresOf,
  label,
  lastOf,
  measure,
  measureEach,
  type ScenarioResult,
} from "./common.ts";

const CONCURRENCY = 200;
const CHUNKS = 40;
const INTERVAL_MS = 10;

type Row = StreamsResult & { cpuShare: number | undefined; steal: number; otherCpu: number };

export async function streaming(ctx: BenchContext): Promise<ScenarioResult> {
  const warmupMs = ctx.quick ? 500 : 1000;
  const durationMs = ctx.quick ? 1500 : 6000;
  const results = await measureEach(ctx, { pauseMs: 300 }, async (contender): Promise<Row> => {
    const m = await measure(ctx, contender, () =>
      ctx.load.run<StreamsResult>(
        {
          kind: "streams",
          target: contender.target,
          concurrency: CONCURRENCY,
          warmupMs,
          durationMs,
          chunks: CHUNKS,
          intervalMs: INTERVAL_MS,
        },
        warmupMs + durationMs + 60_000,
      ),
    );
    const r = m.result;
    ctx.log(
      `streaming: ${label(contender.id)} ${r.completed}/${r.streams} streams, TTFC p50 ${r.ttfcMs.p50.toFixed(2)} ms p99 ${r.ttfcMs.p99.toFixed(2)} ms, coalesced ${r.coalesced}, gap p99 ${r.gapMs.p99.toFixed(2)} ms, other processes ${m.otherCpu.toFixed(0)} % of a core${r.errors.length ? `, errors: ${r.errors.join("; ")}` : ""}`,
    );
    return {
      ...r,
      cpuShare: contender.id === "direct" ? undefined : m.cpuMs / m.wallMs,
      steal: m.steal,
      otherCpu: m.otherCpu,
    };
  });
  const rows = lastOf(results);
  const what = `${CONCURRENCY} streams × ${CHUNKS} chunks / ${INTERVAL_MS} ms`;
  const specs: FigureSpec<Row>[] = [
    {
      id: "streaming.ttfc.p50",
      label: `Streaming ${what}: time to first chunk p50`,
      unit: "ms",
      digits: 2,
      value: (r) => r.ttfcMs.p50,
      target: { compare: "le", base: "direct", offset: 2, text: "≤ direct + 2 ms" },
    },
    {
      id: "streaming.ttfc.p99",
      label: "Streaming: time to first chunk p99",
      unit: "ms",
      digits: 2,
      value: (r) => r.ttfcMs.p99,
    },
    {
      id: "streaming.coalesced",
      label: "Streaming: streams with coalesced chunks",
      unit: "count",
      digits: 0,
      value: (r) => r.coalesced,
      target: { compare: "le", base: "go-proxy", offset: 0, text: "≤ go-proxy" },
    },
    {
      id: "streaming.gap.p50",
      label: "Streaming: inter-chunk gap p50",
      unit: "ms",
      digits: 2,
      value: (r) => r.gapMs.p50,
    },
    {
      id: "streaming.gap.p99",
      label: "Streaming: inter-chunk gap p99",
      unit: "ms",
      digits: 2,
      value: (r) => r.gapMs.p99,
      target: { compare: "le", base: "direct", offset: 2, text: "≤ direct + 2 ms" },
    },
    {
      id: "streaming.streams",
      label: "Streaming: streams measured",
      unit: "count",
      digits: 0,
      value: (r) => r.streams,
    },
    {
      id: "streaming.failed",
      label: "Streaming: failed or incomplete streams",
      unit: "count",
      digits: 0,
      value: (r) => r.failed,
      target: { compare: "le", base: "abs", offset: 0, text: "0" },
    },
    {
      id: "streaming.cpu",
      label: "Streaming: contender CPU",
      unit: "% of a core",
      digits: 1,
      value: (r) => (r.cpuShare === undefined ? undefined : r.cpuShare * 100),
    },
  ];
  return { figures: figuresOf("streaming", rows, specs), raw: Object.fromEntries(rows) };
}
