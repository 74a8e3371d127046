/**
 * Start-up: from spawn to the first 200 on /healthz (polled every 2 ms), then the idle RSS one
 * second later (after azure-oai-proxy's start-up deployment discovery). Several starts each;
 * the median is the figure, the worst start is shown beside it.
 */
import type { ContenderId, Running } from "../contenders.ts";
import { startContender } from "../contenders.ts";
import { rssOf, sleep } from "../lib/proc.ts";
import { median } from "../lib/stats.ts";
import {
  type BenchContext,
  type FigureSpec,
  figuresOf,
  label,
  MB,
  type ScenarioResult,
  startOptions,
} from "./common.ts";

interface Row {
  readonly readyMs: number[];
  readonly idleRss: number[];
}

export async function startup(ctx: BenchContext): Promise<ScenarioResult> {
  const starts = ctx.quick ? 2 : 5;
  const settleMs = ctx.quick ? 600 : 1000;
  const rows = new Map<ContenderId, Row>();
  for (const id of ctx.contenders) {
    if (id === "direct") continue;
    const row: Row = { readyMs: [], idleRss: [] };
    for (let i = 0; i < starts; i++) {
      let running: Running | undefined;
      try {
        running = await startContender(id, startOptions(ctx));
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
  const specs: FigureSpec<Row>[] = [
    {
      id: "startup.ready",
      label: `Start-up: spawn to /healthz 200, median of ${starts}`,
      unit: "ms",
      digits: 0,
      value: (r) => median(r.readyMs),
      target: { compare: "le", base: "abs", offset: 300, text: "≤ 300 ms" },
    },
    {
      id: "startup.ready.max",
      label: "Start-up: slowest start",
      unit: "ms",
      digits: 0,
      value: (r) => Math.max(...r.readyMs),
    },
    {
      id: "startup.rss",
      label: "Start-up: idle RSS",
      unit: "MB",
      digits: 1,
      value: (r) => median(r.idleRss) / MB,
      target: { compare: "le", base: "abs", offset: 70, text: "≤ 70 MB" },
    },
  ];
  return { figures: figuresOf("startup", rows, specs), raw: Object.fromEntries(rows) };
}
