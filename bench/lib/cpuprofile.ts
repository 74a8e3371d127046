/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: self time per function
 * (with file:line), per package or area, inclusive time of the project's own functions, and the
 * hottest source lines of src/.
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
  readonly positionTicks?: readonly { line: number; ticks: number }[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Entry {
  readonly name: string;
  readonly where: string;
  readonly area: string;
  readonly ms: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Time not idle. */
  readonly busyMs: number;
  readonly self: Entry[];
  readonly areas: { area: string; ms: number; share: number }[];
  /** Inclusive time of src/ functions. */
  readonly srcInclusive: Entry[];
  /** Hottest lines of src/ (self samples). */
  readonly srcLines: { where: string; ms: number; share: number }[];
}

function where(frame: CallFrame, root: string): string {
  if (frame.url === "") return "";
  let file = frame.url;
  if (file.startsWith("file://")) {
    try {
      file = relative(root, fileURLToPath(file));
    } catch {}
  }
  const nm = file.lastIndexOf("node_modules/");
  if (nm > 0) file = file.slice(nm);
  return `${file}:${frame.lineNumber + 1}`;
}

/** The package or area a function belongs to. */
export function areaOf(frame: CallFrame, root: string): string {
  const { url, functionName } = frame;
  if (url === "") {
    if (functionName === "(idle)") return "(idle)";
    if (functionName === "(garbage collector)") return "(garbage collector)";
    if (functionName === "(program)") return "(program: native, not JS)";
    return functionName || "(native)";
  }
  if (url.startsWith("node:")) {
    const mod = url.slice(5).split("/").slice(0, 2).join("/");
    return `node:${mod}`;
  }
  const path = url.startsWith("file://") ? relative(root, fileURLToPath(url)) : url;
  const nm = path.lastIndexOf("node_modules/");
  if (nm !== -1) {
    const rest = path.slice(nm + 13).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? path);
  }
  if (path.startsWith("src/")) return `src/${path.slice(4).split("/")[0]}`;
  return path;
}

/** A time window on the monotonic clock, in µs (process.hrtime / 1000). */
export interface Window {
  readonly startUs: number;
  readonly endUs: number;
}

/** Analyses the samples that fall in `windows` (all of them when none are given). */
export function analyseProfile(
  file: string,
  root: string,
  top = 25,
  windows: readonly Window[] = [],
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  const inWindow = (t: number) =>
    windows.length === 0 || windows.some((w) => t >= w.startUs && t <= w.endUs);
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    at += profile.timeDeltas[i] ?? 0;
    if (!inWindow(at)) continue;
    const dt = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  let totalUs = 0;
  for (const v of selfUs.values()) totalUs += v;
  let idleUs = 0;

  const selfByKey = new Map<string, { name: string; where: string; area: string; us: number }>();
  const areas = new Map<string, number>();
  const lineUs = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const frame = node.callFrame;
    const area = areaOf(frame, root);
    if (area === "(idle)") idleUs += us;
    const w = where(frame, root);
    const key = `${frame.functionName}@${w}`;
    const entry = selfByKey.get(key) ?? {
      name: frame.functionName || "(anonymous)",
      where: w,
      area,
      us: 0,
    };
    entry.us += us;
    selfByKey.set(key, entry);
    areas.set(area, (areas.get(area) ?? 0) + us);
    if (area.startsWith("src/") && node.positionTicks?.length) {
      const ticks = node.positionTicks.reduce((a, t) => a + t.ticks, 0);
      for (const t of node.positionTicks) {
        const file = w.slice(0, w.lastIndexOf(":"));
        const k = `${file}:${t.line}`;
        lineUs.set(k, (lineUs.get(k) ?? 0) + (us * t.ticks) / ticks);
      }
    }
  }
  const busyUs = totalUs - idleUs;

  // Inclusive time of src/ functions: a node's time is its self time plus its subtree's.
  const inclusive = new Map<number, number>();
  const visit = (id: number): number => {
    const cached = inclusive.get(id);
    if (cached !== undefined) return cached;
    const node = byId.get(id);
    let sum = selfUs.get(id) ?? 0;
    for (const child of node?.children ?? []) sum += visit(child);
    inclusive.set(id, sum);
    return sum;
  };
  const root0 = profile.nodes[0]?.id;
  if (root0 !== undefined) visit(root0);
  // Count each function once per stack path (skip nested recursive frames of the same key).
  const incByKey = new Map<string, { name: string; where: string; area: string; us: number }>();
  const walk = (id: number, open: Set<string>) => {
    const node = byId.get(id);
    if (node === undefined) return;
    const frame = node.callFrame;
    const area = areaOf(frame, root);
    const w = where(frame, root);
    const key = `${frame.functionName}@${w}`;
    let added = false;
    if (area.startsWith("src/") && !open.has(key)) {
      const entry = incByKey.get(key) ?? {
        name: frame.functionName || "(anonymous)",
        where: w,
        area,
        us: 0,
      };
      entry.us += inclusive.get(id) ?? 0;
      incByKey.set(key, entry);
      open.add(key);
      added = true;
    }
    for (const child of node.children ?? []) walk(child, open);
    if (added) open.delete(key);
  };
  if (root0 !== undefined) walk(root0, new Set());

  const toEntry = (e: { name: string; where: string; area: string; us: number }): Entry => ({
    name: e.name,
    where: e.where,
    area: e.area,
    ms: e.us / 1000,
    share: busyUs > 0 ? e.us / busyUs : 0,
  });
  return {
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    self: [...selfByKey.values()]
      .filter((e) => e.area !== "(idle)")
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map(toEntry),
    areas: [...areas]
      .filter(([a]) => a !== "(idle)")
      .sort((a, b) => b[1] - a[1])
      .map(([area, us]) => ({ area, ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 })),
    srcInclusive: [...incByKey.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map(toEntry),
    srcLines: [...lineUs]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([w, us]) => ({ where: w, ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 })),
  };
}

export function formatProfile(s: ProfileSummary, requests: number | undefined): string {
  const pct = (v: number) => `${(v * 100).toFixed(1).padStart(5)} %`;
  const perReq = (ms: number) =>
    requests ? `${((ms * 1000) / requests).toFixed(1).padStart(6)} µs/req` : "";
  const lines = [
    `profile: ${s.totalMs.toFixed(0)} ms sampled, ${s.busyMs.toFixed(0)} ms busy${requests ? `, ${requests} requests → ${((s.busyMs * 1000) / requests).toFixed(1)} µs busy per request` : ""}`,
    "",
    "By area (self time, share of busy time):",
    ...s.areas.slice(0, 20).map((a) => `  ${pct(a.share)}  ${perReq(a.ms)}  ${a.area}`),
    "",
    "Top functions by self time:",
    ...s.self.map((e) => `  ${pct(e.share)}  ${perReq(e.ms)}  ${e.name}  ${e.where}`),
    "",
    "src/ functions by inclusive time:",
    ...s.srcInclusive.map((e) => `  ${pct(e.share)}  ${perReq(e.ms)}  ${e.name}  ${e.where}`),
    "",
    "Hottest src/ lines (self):",
    ...s.srcLines.slice(0, 15).map((l) => `  ${pct(l.share)}  ${perReq(l.ms)}  ${l.where}`),
  ];
  return lines.join("\n");
}
