/**
 * Figures, targets and their rendering: one row per figure, a column per contender, the
 * project's ratios to direct, nginx and the Node floor, the target and pass/fail. Written as a
 * Markdown table (terminal and docs/performance.md alike) and as JSON. The ratios and targets are
 * azure-oai-proxy's (one worker); other columns are there to compare against.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { CONTENDERS, type ContenderId, LABELS } from "./contenders.ts";

/** What azure-oai-proxy's value is held to. */
export interface TargetSpec {
  /** le: value ≤ threshold; ge: value ≥ threshold. */
  readonly compare: "le" | "ge";
  /** abs: threshold = offset; else threshold = base's value × factor + offset. */
  readonly base: "abs" | "direct" | "nginx" | "floor" | "go-proxy";
  readonly factor?: number;
  readonly offset?: number;
  /** As the issue states it, e.g. "≤ direct + 0.3 ms". */
  readonly text: string;
}

export interface Figure {
  readonly id: string;
  readonly scenario: string;
  readonly label: string;
  readonly unit: string;
  readonly values: Partial<Record<ContenderId, number>>;
  /** Digits after the decimal point when shown. */
  readonly digits?: number;
  readonly target?: TargetSpec;
}

export interface Verdict {
  readonly threshold: number | undefined;
  readonly pass: boolean | undefined;
}

export function judge(figure: Figure): Verdict {
  const t = figure.target;
  const value = figure.values.proxy;
  if (t === undefined) return { threshold: undefined, pass: undefined };
  const base = t.base === "abs" ? 0 : figure.values[t.base];
  if (base === undefined || Number.isNaN(base)) return { threshold: undefined, pass: undefined };
  const threshold = t.base === "abs" ? (t.offset ?? 0) : base * (t.factor ?? 1) + (t.offset ?? 0);
  if (value === undefined || Number.isNaN(value)) return { threshold, pass: false };
  return {
    threshold,
    pass: t.compare === "le" ? value <= threshold + 1e-9 : value >= threshold - 1e-9,
  };
}

export function ratio(figure: Figure, base: ContenderId): number | undefined {
  const v = figure.values.proxy;
  const b = figure.values[base];
  if (v === undefined || b === undefined || Number.isNaN(v) || Number.isNaN(b)) return undefined;
  // A ratio to (nearly) nothing says nothing: 37 MB of growth against nginx's 0.0 MB.
  if (Math.abs(b) < 1e-6 || Math.abs(b) < Math.abs(v) / 100) return undefined;
  return v / b;
}

function fmt(value: number | undefined, digits = 1): string {
  if (value === undefined || Number.isNaN(value)) return "—";
  if (Math.abs(value) >= 10_000) return Math.round(value).toLocaleString("en-US");
  return value.toFixed(digits);
}

function fmtRatio(value: number | undefined): string {
  return value === undefined ? "—" : `${value.toFixed(2)}×`;
}

/** The contenders azure-oai-proxy's figures are divided by, in the table's ratio columns. */
const RATIO_BASES: readonly ContenderId[] = ["direct", "nginx", "floor", "go-proxy"];
/** Columns shown only when the run measured them (a variant asked for). */
const OPTIONAL: ReadonlySet<ContenderId> = new Set(["proxy-2w"]);

export function markdownTable(figures: readonly Figure[]): string {
  const columns = CONTENDERS.filter(
    (c) => !OPTIONAL.has(c) || figures.some((f) => f.values[c] !== undefined),
  );
  const header = [
    "Figure",
    ...columns.map((c) => LABELS[c]),
    ...RATIO_BASES.map((c) => `÷ ${LABELS[c]}`),
    "target (azure-oai-proxy)",
    "ok",
  ];
  const rows = [header, header.map((_, i) => (i === 0 || i >= header.length - 2 ? "---" : "---:"))];
  for (const f of figures) {
    const verdict = judge(f);
    const target =
      f.target === undefined
        ? ""
        : `${f.target.text}${verdict.threshold === undefined ? "" : ` (${f.target.compare === "le" ? "≤" : "≥"} ${fmt(verdict.threshold, f.digits ?? 1)})`}`;
    rows.push([
      `${f.label} (${f.unit})`,
      ...columns.map((c) => fmt(f.values[c], f.digits ?? 1)),
      ...RATIO_BASES.map((c) => fmtRatio(ratio(f, c))),
      target,
      verdict.pass === undefined ? "" : verdict.pass ? "✅" : "❌",
    ]);
  }
  return rows.map((r) => `| ${r.join(" | ")} |`).join("\n");
}

export interface Machine {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  /** Which azure-oai-proxy was measured. */
  readonly proxy: string;
  readonly nginx: string;
  /** The Go proxy that ran (its source hash), or why it did not. */
  readonly goProxy?: string;
  readonly wrk: string;
  readonly loadAverageAtStart: readonly number[];
  /** Share of CPU time stolen by the hypervisor while the bench ran (0..1). */
  steal: number;
  /** Share of CPU time busy while the bench ran (0..1). */
  busy: number;
}

export interface Report {
  readonly mode: "quick" | "full";
  readonly startedAt: string;
  durationS: number;
  readonly machine: Machine;
  readonly figures: Figure[];
  readonly scenarios: Record<string, unknown>;
  readonly notes: string[];
}

export function machineLine(report: Report): string {
  const m = report.machine;
  return [
    `${report.mode} run, ${report.startedAt}, ${report.durationS.toFixed(0)} s`,
    `${m.cores} cores (${m.cpuModel}), ${m.memoryGiB.toFixed(0)} GiB`,
    `steal ${(m.steal * 100).toFixed(1)} %, busy ${(m.busy * 100).toFixed(0)} % over the run`,
    `load average at start ${m.loadAverageAtStart.map((l) => l.toFixed(2)).join(" ")}`,
    `Linux ${m.kernel}, Node ${m.node}, ${m.nginx}, ${m.wrk}${m.goProxy ? `, ${m.goProxy}` : ""}`,
    `azure-oai-proxy ${m.proxy}`,
  ].join("; ");
}

export function summaryLine(figures: readonly Figure[]): string {
  const judged = figures.map(judge).filter((v) => v.pass !== undefined);
  const passed = judged.filter((v) => v.pass).length;
  return `${passed} of ${judged.length} targets met`;
}

/**
 * Replaces the marked section of docs/performance.md for this mode
 * (`<!-- bench:full:start -->` … `<!-- bench:full:end -->`, or `quick`) with the latest table.
 */
export function writeDocs(path: string, report: Report): void {
  const START = `<!-- bench:${report.mode}:start -->`;
  const END = `<!-- bench:${report.mode}:end -->`;
  const section = [
    START,
    `Latest \`npm run bench${report.mode === "quick" ? " -- --quick" : ""}\`: ${machineLine(report)}.`,
    "",
    `${summaryLine(report.figures)}.`,
    "",
    markdownTable(report.figures),
    ...(report.notes.length ? ["", ...report.notes.map((n) => `- ${n}`)] : []),
    END,
  ].join("\n");
  let text = existsSync(path) ? readFileSync(path, "utf8") : "# Performance\n\n";
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a !== -1 && b > a) text = `${text.slice(0, a)}${section}${text.slice(b + END.length)}`;
  else text = `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, text);
}
