/**
 * Streaming: 200 concurrent SSE streams (closed loop, starts spread over one stream length),
 * each Azure's prompt-filter event then 40 chunks 10 ms apart and [DONE]. Measured at the client,
 * read by read: time to the first content chunk, streams where one read carried two events
 * (coalesced), and the gaps between consecutive chunks.
 */
import type { ContenderId } from "../contenders.ts";
import type { StreamsResult } from "../lib/jobs.ts";
import { sleep } from "../lib/proc.ts";
import type { Figure } from "../report.ts";
import {
  type BenchContext,
  get,
  label,
  measure,
  type ScenarioResult,
  withContenders,
} from "./common.ts";

const CONCURRENCY = 200;
const CHUNKS = 40;
const INTERVAL_MS = 10;

export async function streaming(ctx: BenchContext): Promise<ScenarioResult> {
  const warmupMs = ctx.quick ? 500 : 1000;
  const durationMs = ctx.quick ? 1500 : 6000;
  const results = new Map<
    ContenderId,
    StreamsResult & { cpuShare: number | undefined; steal: number; otherCpu: number }
  >();
  await withContenders(ctx, async (running) => {
    for (const id of ctx.contenders) {
      const contender = get(running, id);
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
      results.set(id, {
        ...r,
        cpuShare: id === "direct" ? undefined : m.cpuMs / m.wallMs,
        steal: m.steal,
        otherCpu: m.otherCpu,
      });
      ctx.log(
        `streaming: ${label(id)} ${r.completed}/${r.streams} streams, TTFC p50 ${r.ttfcMs.p50.toFixed(2)} ms p99 ${r.ttfcMs.p99.toFixed(2)} ms, coalesced ${r.coalesced}, gap p99 ${r.gapMs.p99.toFixed(2)} ms, other processes ${m.otherCpu.toFixed(0)} % of a core${r.errors.length ? `, errors: ${r.errors.join("; ")}` : ""}`,
      );
      await sleep(300);
    }
  });
  const pick = (f: (r: StreamsResult & { cpuShare: number | undefined }) => number | undefined) => {
    const values: Partial<Record<ContenderId, number>> = {};
    for (const [id, r] of results) {
      const v = f(r);
      if (v !== undefined) values[id] = v;
    }
    return values;
  };
  const scenario = "streaming";
  const what = `${CONCURRENCY} streams × ${CHUNKS} chunks / ${INTERVAL_MS} ms`;
  const figures: Figure[] = [
    {
      id: "streaming.ttfc.p50",
      scenario,
      label: `Streaming ${what}: time to first chunk p50`,
      unit: "ms",
      digits: 2,
      values: pick((r) => r.ttfcMs.p50),
      target: { compare: "le", base: "direct", offset: 1, text: "≤ direct + 1 ms" },
    },
    {
      id: "streaming.ttfc.p99",
      scenario,
      label: "Streaming: time to first chunk p99",
      unit: "ms",
      digits: 2,
      values: pick((r) => r.ttfcMs.p99),
    },
    {
      id: "streaming.coalesced",
      scenario,
      label: "Streaming: streams with coalesced chunks",
      unit: "count",
      digits: 0,
      values: pick((r) => r.coalesced),
      target: { compare: "le", base: "direct", offset: 0, text: "≤ direct" },
    },
    {
      id: "streaming.gap.p50",
      scenario,
      label: "Streaming: inter-chunk gap p50",
      unit: "ms",
      digits: 2,
      values: pick((r) => r.gapMs.p50),
    },
    {
      id: "streaming.gap.p99",
      scenario,
      label: "Streaming: inter-chunk gap p99",
      unit: "ms",
      digits: 2,
      values: pick((r) => r.gapMs.p99),
      target: { compare: "le", base: "direct", offset: 2, text: "≤ direct + 2 ms" },
    },
    {
      id: "streaming.streams",
      scenario,
      label: "Streaming: streams measured",
      unit: "count",
      digits: 0,
      values: pick((r) => r.streams),
    },
    {
      id: "streaming.failed",
      scenario,
      label: "Streaming: failed or incomplete streams",
      unit: "count",
      digits: 0,
      values: pick((r) => r.failed),
      target: { compare: "le", base: "abs", offset: 0, text: "0" },
    },
    {
      id: "streaming.cpu",
      scenario,
      label: "Streaming: contender CPU",
      unit: "% of a core",
      digits: 1,
      values: pick((r) => (r.cpuShare === undefined ? undefined : r.cpuShare * 100)),
    },
  ];
  return { figures, raw: Object.fromEntries(results) };
}
