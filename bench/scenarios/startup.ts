/**
 * Start-up: from spawn to the first 200 on /healthz (polled every 2 ms), then the idle RSS one
 * second later (after azure-oai-proxy's start-up deployment discovery). Several starts each;
 * the median is the figure, the worst start is shown beside it.
 */
import type { ContenderId, Running } from "../contenders.ts";
import { startContender } from "../contenders.ts";
import { rssOf, sleep } from "../lib/proc.ts";
import { median } from "../lib/stats.ts";
import type { Figure } from "../report.ts";
import { type BenchContext, label, MB, type ScenarioResult } from "./common.ts";

export async function startup(ctx: BenchContext): Promise<ScenarioResult> {
  const starts = ctx.quick ? 2 : 5;
  const settleMs = ctx.quick ? 600 : 1000;
  const rows = new Map<ContenderId, { readyMs: number[]; idleRss: number[] }>();
  for (const id of ctx.contenders) {
    if (id === "direct") continue;
    const row = { readyMs: [] as number[], idleRss: [] as number[] };
    for (let i = 0; i < starts; i++) {
      let running: Running | undefined;
      try {
        running = await startContender(id, {
          fakePort: ctx.fake.port,
          tmp: ctx.tmp,
          nginx: ctx.nginx,
          proxyRoot: ctx.proxyRoot,
          proxyEnv: ctx.proxyEnv,
        });
        row.readyMs.push(running.readyMs ?? Number.NaN);
        await sleep(settleMs);
        row.idleRss.push(rssOf(running.pids()));
      } finally {
        await running?.stop();
      }
      await sleep(100);
    }
    rows.set(id, row);
    ctx.log(
      `startup: ${label(id)} ready ${row.readyMs.map((v) => v.toFixed(0)).join(", ")} ms; idle RSS ${row.idleRss.map((v) => (v / MB).toFixed(0)).join(", ")} MB`,
    );
  }
  const pick = (f: (r: { readyMs: number[]; idleRss: number[] }) => number) => {
    const values: Partial<Record<ContenderId, number>> = {};
    for (const [id, r] of rows) values[id] = f(r);
    return values;
  };
  const scenario = "startup";
  const figures: Figure[] = [
    {
      id: "startup.ready",
      scenario,
      label: `Start-up: spawn to /healthz 200, median of ${starts}`,
      unit: "ms",
      digits: 0,
      values: pick((r) => median(r.readyMs)),
      target: { compare: "le", base: "abs", offset: 500, text: "≤ 500 ms" },
    },
    {
      id: "startup.ready.max",
      scenario,
      label: "Start-up: slowest start",
      unit: "ms",
      digits: 0,
      values: pick((r) => Math.max(...r.readyMs)),
    },
    {
      id: "startup.rss",
      scenario,
      label: "Start-up: idle RSS",
      unit: "MB",
      digits: 1,
      values: pick((r) => median(r.idleRss) / MB),
      target: { compare: "le", base: "abs", offset: 70, text: "≤ 70 MB" },
    },
  ];
  return { figures, raw: Object.fromEntries(rows) };
}
