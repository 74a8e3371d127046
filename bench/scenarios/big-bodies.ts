/**
 * Big bodies, each kind on freshly started contenders after a short warm-up: a 200 MB multipart
 * upload (`model` field first, as the Python SDK sends it, and last, as the Node SDK does) and a
 * 30 MB JSON chat body (sent twice). The figure is how far the contender's RSS rises above where
 * it was just before.
 */
import type { ContenderId } from "../contenders.ts";
import type { ClosedResult, Job, Target, TransferResult } from "../lib/jobs.ts";
import { rssOf, sampleRss, sleep } from "../lib/proc.ts";
import type { Figure } from "../report.ts";
import {
  type BenchContext,
  label,
  MB,
  measureEach,
  type ScenarioResult,
  valuesOf,
} from "./common.ts";

const UPLOAD = 200 * MB;
const JSON_BODY = 30 * MB;

interface Transfer {
  readonly result: TransferResult;
  readonly growth: number | undefined;
  readonly before: number | undefined;
  /** Growth after each repetition (cumulative peak). */
  readonly growths: readonly number[];
}

export async function bigBodies(ctx: BenchContext): Promise<ScenarioResult> {
  const rows = new Map<ContenderId, Record<string, Transfer>>();
  const notes: string[] = [];
  const uploadTimeout = 120_000;
  interface Kind {
    readonly name: string;
    readonly job: (target: Target) => Job;
    readonly timeoutMs: number;
    readonly repeat: number;
  }
  const upload = (name: string, modelFirst: boolean): Kind => ({
    name,
    job: (target) => ({
      kind: "upload",
      target,
      bytes: UPLOAD,
      modelFirst,
      timeoutMs: uploadTimeout,
    }),
    timeoutMs: uploadTimeout + 10_000,
    repeat: 1,
  });
  const json: Kind = {
    name: "json",
    job: (target) => ({ kind: "json", target, bytes: JSON_BODY, timeoutMs: 60_000 }),
    timeoutMs: 70_000,
    repeat: 2,
  };
  // Full: each kind on freshly started contenders, so one transfer's garbage is not the next
  // one's headroom. Quick: one set of processes, JSON first (its growth is the heap's).
  const groups: Kind[][] = ctx.quick
    ? [[json, upload("uploadModelFirst", true)]]
    : [[upload("uploadModelFirst", true)], [upload("uploadModelLast", false)], [json]];
  for (const group of groups) {
    const warm = (contender: { target: Target }) =>
      ctx.load.run<ClosedResult>(
        { kind: "closed", target: contender.target, connections: 4, durationMs: 300 },
        30_000,
      );
    await measureEach(ctx, { warm }, async (contender) => {
      const id = contender.id;
      const hasProcess = contender.pids().length > 0;
      for (const kind of group) {
        const before = hasProcess ? rssOf(contender.pids()) : undefined;
        let result: TransferResult | undefined;
        let peak = 0;
        const growths: number[] = [];
        for (let i = 0; i < kind.repeat; i++) {
          const sampler = sampleRss(() => contender.pids(), 10);
          const r = await ctx.load.run<TransferResult>(kind.job(contender.target), kind.timeoutMs);
          peak = Math.max(peak, sampler.stop());
          if (hasProcess && before !== undefined) growths.push(Math.max(0, peak - before));
          if (result === undefined || r.status !== 200 || r.error !== undefined) result = r;
        }
        const growth = growths[0];
        const row = rows.get(id) ?? {};
        row[kind.name] = { result: result as TransferResult, growth, before, growths };
        rows.set(id, row);
        const r = result as TransferResult;
        ctx.log(
          `big bodies: ${label(id)} ${kind.name}${kind.repeat > 1 ? ` ×${kind.repeat}` : ""}: status ${r.status}, ${(r.ms / 1000).toFixed(2)} s${growth === undefined ? "" : `, RSS +${growths.map((g) => (g / MB).toFixed(1)).join(" / +")} MB (from ${((before ?? 0) / MB).toFixed(0)} MB)`}${r.error ? `, error ${r.error}` : ""}${r.upstreamBytes !== undefined && r.upstreamBytes !== r.bytes ? `, upstream got ${r.upstreamBytes} of ${r.bytes} bytes` : ""}`,
        );
        await sleep(200);
      }
    });
  }
  const pick = (f: (r: Record<string, Transfer>) => number | undefined) => valuesOf(rows, f);
  const ok = (t: Transfer | undefined) =>
    t !== undefined &&
    t.result.status === 200 &&
    (t.result.upstreamBytes === undefined || t.result.upstreamBytes === t.result.bytes);
  const growthMb = (t: Transfer | undefined) =>
    t?.growth === undefined ? undefined : t.growth / MB;
  const scenario = "big-bodies";
  const figures: Figure[] = [
    {
      id: "bodies.upload.growth",
      scenario,
      label: "Upload 200 MB multipart (model first): RSS growth",
      unit: "MB",
      digits: 1,
      values: pick((r) => growthMb(r.uploadModelFirst)),
      target: { compare: "le", base: "abs", offset: 50, text: "≤ 50 MB" },
    },
    {
      id: "bodies.upload.time",
      scenario,
      label: "Upload 200 MB multipart (model first): time",
      unit: "s",
      digits: 2,
      values: pick((r) =>
        ok(r.uploadModelFirst) ? (r.uploadModelFirst?.result.ms ?? 0) / 1000 : undefined,
      ),
    },
  ];
  if (!ctx.quick) {
    figures.push(
      {
        id: "bodies.upload-last.growth",
        scenario,
        label: "Upload 200 MB multipart (model last): RSS growth",
        unit: "MB",
        digits: 1,
        values: pick((r) => growthMb(r.uploadModelLast)),
        target: { compare: "le", base: "abs", offset: 50, text: "≤ 50 MB" },
      },
      {
        id: "bodies.upload-last.time",
        scenario,
        label: "Upload 200 MB multipart (model last): time",
        unit: "s",
        digits: 2,
        values: pick((r) =>
          ok(r.uploadModelLast) ? (r.uploadModelLast?.result.ms ?? 0) / 1000 : undefined,
        ),
      },
    );
  }
  figures.push(
    {
      id: "bodies.json.growth",
      scenario,
      label: "JSON chat body 30 MB: RSS growth",
      unit: "MB",
      digits: 1,
      values: pick((r) => growthMb(r.json)),
      target: { compare: "le", base: "abs", offset: 90, text: "≤ 3× its size" },
    },
    {
      id: "bodies.json2.growth",
      scenario,
      label: "JSON chat body 30 MB, a second one: RSS growth (both)",
      unit: "MB",
      digits: 1,
      values: pick((r) => (r.json?.growths[1] === undefined ? undefined : r.json.growths[1] / MB)),
    },
    {
      id: "bodies.json.time",
      scenario,
      label: "JSON chat body 30 MB: time",
      unit: "s",
      digits: 2,
      values: pick((r) => (ok(r.json) ? (r.json?.result.ms ?? 0) / 1000 : undefined)),
    },
    {
      id: "bodies.failed",
      scenario,
      label: "Big bodies: failed transfers",
      unit: "count",
      digits: 0,
      values: pick((r) => Object.values(r).filter((t) => !ok(t)).length),
      target: { compare: "le", base: "abs", offset: 0, text: "0" },
    },
  );
  const raw = Object.fromEntries(
    [...rows].map(([id, r]) => [
      id,
      Object.fromEntries(
        Object.entries(r).map(([k, t]) => [
          k,
          {
            growthsMB: t.growths.map((g) => g / MB),
            ...t.result,
            rssBeforeMB: t.before === undefined ? undefined : t.before / MB,
            growthMB: growthMb(t),
          },
        ]),
      ),
    ]),
  );
  return { figures, raw, notes };
}
