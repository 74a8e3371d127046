/**
 * `npm run bench` — the benchmark of issue 4, in one bounded run on loopback.
 *
 * Starts a fake Azure upstream and runs the same load through the contenders in turn (direct,
 * nginx, a minimal Node proxy, the original Go proxy, azure-oai-proxy and, where it has the
 * setting, azure-oai-proxy with 2 workers), then prints one table and writes JSON to
 * bench/results/latest.json. Every process it starts is stopped at the end, on error, on SIGINT
 * and when the time budget runs out.
 *
 *   npm run bench                        full run (over 5 minutes)
 *   npm run bench -- --quick             shorter phases (about 2 minutes)
 *   npm run bench -- --write-docs        also put the table in docs/performance.md
 *   npm run bench -- --only=throughput,latency --contenders=floor,proxy
 *   npm run bench -- --profile           azure-oai-proxy under the throughput load with
 *                                        --cpu-prof; prints where the time goes
 *   --proxy-ref=<git ref>                measure azure-oai-proxy as committed at that ref (a
 *                                        snapshot of src/ in a temp dir) instead of the work tree
 *   --proxy-dir=<path>                   measure the azure-oai-proxy whose src/ is in <path> (a
 *                                        patched copy; node_modules is taken from this repo)
 *   --proxy-env=NAME=value[,NAME=value]  extra environment for azure-oai-proxy (experiments:
 *                                        LOG_LEVEL=warn, NODE_COMPILE_CACHE=/tmp/ncc, …)
 *   --render=<results.json>              print (and with --write-docs, write) the table of an
 *                                        earlier run without running anything
 *   --loadgen=node                       throughput from the Node load generator, not wrk
 *   --no-install                         never apt-get install nginx, wrk or Go
 *   --workers=N                          run the proxy-2w contender with
 *                                        AZURE_OPENAI_PROXY_WORKERS=N (default 2); it runs by
 *                                        default only when the measured src/ has that setting
 *   --go-seed=<dir>                      where build-go-proxy.sh and go-proxy/ are (default
 *                                        ../shared/seed beside the checkout)
 * Contenders (--contenders=a,b): direct, nginx, floor, go-proxy, proxy, proxy-2w. go-proxy is
 * built once into ~/.cache/azure-oai-proxy-bench/ and left out, with a note, where it cannot be.
 * Throughput adds a round with the load generator pinned to core 0 (taskset) where taskset exists.
 */
import { spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { cpus, freemem, loadavg, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { CONTENDERS, type ContenderId, REPO, WORKERS_SETTING } from "./contenders.ts";
import { goProxyBinary } from "./go-proxy.ts";
import { FakeAzure, LoadGenerator } from "./lib/children.ts";
import { analyseProfile, formatProfile } from "./lib/cpuprofile.ts";
import { cpuShare, cpuTimes, killAllNow, runningChildren, stopAll } from "./lib/proc.ts";
import { aptInstall, findNginx, nginxVersion } from "./nginx.ts";
import {
  type Machine,
  machineLine,
  markdownTable,
  type Report,
  summaryLine,
  writeDocs,
} from "./report.ts";
import { bigBodies } from "./scenarios/big-bodies.ts";
import { type BenchContext, measuredWindows, type Scenario } from "./scenarios/common.ts";
import { idleStreams } from "./scenarios/idle-streams.ts";
import { latency } from "./scenarios/latency.ts";
import { startup } from "./scenarios/startup.ts";
import { streaming } from "./scenarios/streaming.ts";
import { throughput } from "./scenarios/throughput.ts";
import { translation } from "./scenarios/translation.ts";
import { findWrk, wrkVersion } from "./wrk.ts";

const SCENARIOS: Readonly<Record<string, Scenario>> = {
  startup,
  throughput,
  latency,
  streaming,
  "idle-streams": idleStreams,
  "big-bodies": bigBodies,
  translation,
};

interface Options {
  quick: boolean;
  writeDocs: boolean;
  only: string[];
  contenders: ContenderId[];
  profile: boolean;
  loadgen: "auto" | "node";
  install: boolean;
  proxyRef: string | undefined;
  proxyDir: string | undefined;
  proxyEnv: Record<string, string>;
  /** Workers of proxy-2w; undefined: 2, and proxy-2w only where the proxy has the setting. */
  workers: number | undefined;
  goSeed: string | undefined;
  /** --contenders was given (no contender is added or dropped by default rules then). */
  contendersGiven: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = {
    quick: false,
    writeDocs: false,
    only: Object.keys(SCENARIOS),
    contenders: [...CONTENDERS],
    profile: false,
    loadgen: "auto",
    install: true,
    proxyRef: undefined,
    proxyDir: undefined,
    proxyEnv: {},
    workers: undefined,
    goSeed: undefined,
    contendersGiven: false,
  };
  for (const arg of argv) {
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const value = eq === -1 ? undefined : arg.slice(eq + 1);
    if (name === "--quick") options.quick = true;
    else if (name === "--write-docs") options.writeDocs = true;
    else if (name === "--no-install") options.install = false;
    else if (name === "--profile") options.profile = true;
    else if (name === "--loadgen" && value === "node") options.loadgen = "node";
    else if (name === "--proxy-ref" && value) options.proxyRef = value;
    else if (name === "--proxy-dir" && value) options.proxyDir = resolve(value);
    else if (name === "--go-seed" && value) options.goSeed = resolve(value);
    else if (name === "--workers" && value && /^[1-9]\d*$/.test(value))
      options.workers = Number(value);
    else if (name === "--proxy-env" && value) {
      for (const pair of value.split(",")) {
        const at = pair.indexOf("=");
        if (at > 0) options.proxyEnv[pair.slice(0, at)] = pair.slice(at + 1);
      }
    } else if (name === "--only" && value) {
      options.only = value.split(",").filter((s) => s in SCENARIOS);
      if (options.only.length === 0)
        throw new Error(`--only: choose from ${Object.keys(SCENARIOS).join(", ")}`);
    } else if (name === "--contenders" && value) {
      options.contenders = CONTENDERS.filter((c) => value.split(",").includes(c));
      options.contendersGiven = true;
    } else if (name === "--help" || name === "-h") {
      process.stdout.write(`${readFileSync(new URL(import.meta.url), "utf8").split("*/")[0]}*/\n`);
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (try --help)`);
  }
  if (options.profile) {
    options.contenders = ["proxy"];
    if (!process.argv.some((a) => a.startsWith("--only"))) options.only = ["throughput"];
  }
  return options;
}

const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
function log(message: string): void {
  process.stderr.write(`[${elapsed().toFixed(1).padStart(5)} s] ${message}\n`);
}

async function main(): Promise<number> {
  const rendered = process.argv.find((a) => a.startsWith("--render="));
  if (rendered !== undefined) {
    const report = JSON.parse(readFileSync(rendered.slice(9), "utf8")) as Report;
    process.stdout.write(
      `${machineLine(report)}\n${summaryLine(report.figures)}\n\n${markdownTable(report.figures)}\n`,
    );
    if (process.argv.includes("--write-docs")) writeDocs(join(REPO, "docs/performance.md"), report);
    return 0;
  }
  const options = parseArgs(process.argv.slice(2));
  const mode = options.quick ? "quick" : "full";

  // Tools first (their install time is not part of the bench's budget).
  let nginx = options.contenders.includes("nginx") ? findNginx() : undefined;
  if (options.contenders.includes("nginx") && nginx === undefined && options.install) {
    log("nginx is missing: installing the Debian package…");
    const why = aptInstall(["nginx"], 240_000);
    nginx = findNginx();
    if (nginx === undefined)
      log(`could not install nginx (${why ?? "unknown"}): nginx is left out`);
  }
  let wrk = options.loadgen === "node" ? undefined : findWrk();
  if (options.loadgen !== "node" && wrk === undefined && options.install) {
    log("wrk is missing: installing the Debian package…");
    const why = aptInstall(["wrk"], 240_000);
    wrk = findWrk();
    if (wrk === undefined)
      log(`could not install wrk (${why ?? "unknown"}): throughput uses the Node load generator`);
  }
  const notes: string[] = [];
  let goProxy: string | undefined;
  let goProxyVersion: string | undefined;
  if (options.contenders.includes("go-proxy")) {
    log("go-proxy: finding or building the original Go proxy…");
    const build = goProxyBinary(REPO, { seed: options.goSeed, install: options.install });
    if (build.binary === undefined) {
      goProxyVersion = "go-proxy n/a";
      log(`go-proxy is left out: ${build.why}`);
      notes.push(`go-proxy was left out: ${build.why}.`);
    } else {
      goProxy = build.binary;
      goProxyVersion = build.version;
      log(`go-proxy: ${build.binary}${build.built ? " (built now)" : " (cached)"}`);
    }
  }
  const taskset = findTool("taskset");
  const contenders = options.contenders.filter(
    (c) => (c !== "nginx" || nginx !== undefined) && (c !== "go-proxy" || goProxy !== undefined),
  );
  if (options.contenders.includes("nginx") && nginx === undefined)
    notes.push("nginx was not available: its column is empty.");
  if (wrk === undefined)
    notes.push("Throughput measured with the Node load generator (wrk not available).");

  const benchStart = performance.now();
  const tmp = mkdtempSync(join(tmpdir(), "azure-oai-proxy-bench-"));
  const resultsDir = join(REPO, "bench/results");
  mkdirSync(resultsDir, { recursive: true });
  const profileDir = options.profile
    ? join(resultsDir, `profile-${new Date().toISOString().replace(/[:.]/g, "-")}`)
    : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });

  const proxy =
    options.proxyDir !== undefined
      ? { root: options.proxyDir, version: `from ${options.proxyDir}` }
      : proxySource(options.proxyRef, tmp);
  // proxy-2w: asked for (--workers, --contenders), or by default where the proxy has the setting.
  const workers = options.workers ?? 2;
  const hasWorkers = sourceMentions(join(proxy.root, "src"), WORKERS_SETTING);
  const wantWorkers = options.contendersGiven || options.workers !== undefined || hasWorkers;
  if (!wantWorkers && contenders.includes("proxy-2w")) {
    contenders.splice(contenders.indexOf("proxy-2w"), 1);
    notes.push(
      `azure-oai-proxy has no ${WORKERS_SETTING} setting yet: proxy-2w was left out (--workers=2 runs it anyway).`,
    );
  } else if (contenders.includes("proxy-2w")) {
    notes.push(
      `azure-oai-proxy 2w ran with ${WORKERS_SETTING}=${workers}${hasWorkers ? "" : `, a setting the measured src/ does not have yet (so one worker)`}.`,
    );
  }
  const budgetS = Math.round((options.quick ? 40 : 90) * Math.max(4, contenders.length));
  const envNote = Object.entries(options.proxyEnv)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  if (envNote) notes.push(`azure-oai-proxy ran with extra environment: ${envNote}.`);
  log(`azure-oai-proxy: ${proxy.version}${envNote ? ` with ${envNote}` : ""}`);

  const cpuStart = cpuTimes();
  const machine: Machine = {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: totalmem() / 2 ** 30,
    kernel: release(),
    node: process.version,
    proxy: proxy.version,
    nginx: nginx ? nginxVersion(nginx).replace("nginx version: ", "") : "nginx n/a",
    wrk: wrk ? (wrkVersion(wrk).split(" [")[0] ?? "wrk") : "wrk n/a",
    goProxy: goProxyVersion,
    loadAverageAtStart: loadavg(),
    steal: 0,
    busy: 0,
  };
  const report: Report = {
    mode,
    startedAt: new Date().toISOString(),
    durationS: 0,
    machine,
    figures: [],
    scenarios: {},
    notes,
  };
  log(
    `${mode} run: ${options.only.join(", ")}; contenders ${contenders.join(", ")}; ${machine.cores} cores, ${(freemem() / 2 ** 30).toFixed(1)} GiB free`,
  );

  const load = new LoadGenerator();
  let fake: FakeAzure | undefined;
  let finished = false;
  let profileRequests: number | undefined;
  const finish = async (code: number, why?: string) => {
    if (finished) return;
    finished = true;
    if (why) log(why);
    await load.stop().catch(() => {});
    await fake?.stop().catch(() => {});
    await stopAll().catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
    const left = runningChildren();
    if (left.length) log(`still running after cleanup: ${left.join(", ")}`);
    return code;
  };
  const watchdog = setTimeout(() => {
    void (async () => {
      notes.push(`Stopped by the ${budgetS} s time budget.`);
      writeOutputs(report, options, resultsDir, benchStart, cpuStart);
      await finish(2, `time budget of ${budgetS} s exceeded: stopping everything`);
      process.exit(2);
    })();
  }, budgetS * 1000);
  watchdog.unref();
  let signalled = false;
  const onSignal = (sig: string) => {
    if (signalled) return;
    signalled = true;
    void (async () => {
      await finish(130, `${sig}: stopping everything`);
      process.exit(130);
    })();
  };
  // Whoever started us is gone (npm killed, terminal closed): stop too. npm and npx run us
  // through `sh`, which may outlive them, so an orphaned parent counts as well.
  const parent = process.ppid;
  const grandparent = parentOf(parent);
  const orphan = setInterval(() => {
    if (process.ppid !== parent || (grandparent !== 1 && parentOf(parent) === 1)) {
      onSignal("parent process gone");
    }
  }, 1000);
  orphan.unref();
  process.once("SIGINT", () => onSignal("SIGINT"));
  process.once("SIGTERM", () => onSignal("SIGTERM"));
  process.once("exit", () => killAllNow());

  try {
    fake = await FakeAzure.start();
    log(`fake Azure on 127.0.0.1:${fake.port} (pid ${fake.pid})`);
    const ctx: BenchContext = {
      quick: options.quick,
      fake,
      load,
      tmp,
      nginx,
      goProxy,
      wrk,
      taskset,
      contenders,
      proxyNodeFlags: profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : undefined,
      proxyRoot: proxy.root,
      proxyEnv: options.proxyEnv,
      proxyWorkers: workers,
      log,
    };
    for (const name of options.only) {
      if (finished) break; // stopping (signal, budget, parent gone)
      const scenario = SCENARIOS[name] as Scenario;
      const t0 = performance.now();
      log(`— ${name}`);
      try {
        const result = await scenario(ctx);
        report.figures.push(...result.figures);
        report.scenarios[name] = {
          ...(result.raw as object),
          seconds: (performance.now() - t0) / 1000,
        };
        if (result.notes) notes.push(...result.notes);
      } catch (error) {
        const message = `${name} failed: ${(error as Error).message}`;
        log(message);
        notes.push(message);
      }
    }
    notes.push(...proxyLogNotes(tmp));
    if (profileDir)
      profileRequests = measuredWindows
        .filter((w) => w.id === "proxy")
        .reduce((a, w) => a + w.requests, 0);
  } finally {
    clearTimeout(watchdog);
    writeOutputs(report, options, resultsDir, benchStart, cpuStart);
    if (profileDir) printProfile(profileDir, profileRequests, proxy.root);
    await finish(0);
  }
  process.stdout.write(
    `\n${machineLine(report)}\n${summaryLine(report.figures)}\n\n${markdownTable(report.figures)}\n`,
  );
  if (notes.length) process.stdout.write(`\n${notes.map((n) => `- ${n}`).join("\n")}\n`);
  process.stdout.write(
    `\nJSON: bench/results/latest.json${options.writeDocs ? "; table written to docs/performance.md" : ""}\n`,
  );
  return 0;
}

/** The path of a program on PATH, or undefined. */
function findTool(name: string): string | undefined {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  const path = found.stdout.trim();
  return found.status === 0 && path !== "" ? path : undefined;
}

/** Whether any .ts file under `dir` contains `text` (does the measured proxy have a setting?). */
function sourceMentions(dir: string, text: string): boolean {
  const out = spawnSync("grep", ["-rlq", "--include=*.ts", "--", text, dir]);
  return out.status === 0;
}

/** The parent pid of a process, from /proc (undefined when it is gone). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

function git(args: readonly string[]): string {
  const out = spawnSync("git", ["-C", REPO, ...args], { encoding: "utf8" });
  return out.status === 0 ? out.stdout.trim() : "";
}

/** The azure-oai-proxy to measure: the work tree, or a snapshot of `ref` extracted into tmp. */
function proxySource(ref: string | undefined, tmp: string): { root: string; version: string } {
  if (ref === undefined) {
    const sha = git(["rev-parse", "--short", "HEAD"]);
    const dirty = git(["status", "--porcelain", "--", "src", "package.json"]) !== "";
    return {
      root: REPO,
      version: `work tree at ${sha || "?"}${dirty ? " + uncommitted changes" : ""}`,
    };
  }
  const sha = git(["rev-parse", "--short", `${ref}^{commit}`]);
  if (sha === "") throw new Error(`--proxy-ref: ${ref} is not a commit`);
  const root = join(tmp, `proxy-${sha}`);
  mkdirSync(root, { recursive: true });
  const archive = spawnSync(
    "sh",
    [
      "-c",
      `git -C "$0" archive --format=tar "$1" src package.json | tar -x -C "$2"`,
      REPO,
      sha,
      root,
    ],
    {
      encoding: "utf8",
    },
  );
  if (archive.status !== 0)
    throw new Error(`--proxy-ref: could not extract ${ref}: ${archive.stderr}`);
  symlinkSync(join(REPO, "node_modules"), join(root, "node_modules"), "dir");
  return { root, version: `${ref} = ${sha} (snapshot)` };
}

/** Warnings and errors azure-oai-proxy logged while it was measured (its logs are kept in tmp). */
function proxyLogNotes(tmp: string): string[] {
  let lines = 0;
  let requests = 0;
  const levels = new Map<number, number>();
  const samples: string[] = [];
  for (const file of readdirSync(tmp)) {
    if (!file.startsWith("proxy-") || !file.endsWith(".log")) continue;
    for (const line of readFileSync(join(tmp, file), "utf8").split("\n")) {
      if (line === "") continue;
      lines++;
      const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? 0);
      if (line.includes('"msg":"request"')) requests++;
      if (level >= 50 || (level === 40 && line.includes('"msg":"request"'))) {
        levels.set(level, (levels.get(level) ?? 0) + 1);
        if (samples.length < 3) samples.push(line.slice(0, 300));
      }
    }
  }
  const notes = [
    `azure-oai-proxy wrote ${lines} log lines (${requests} request lines) at its default level.`,
  ];
  if (levels.size) {
    notes.push(
      `azure-oai-proxy logged ${[...levels].map(([l, n]) => `${n} at level ${l}`).join(", ")}; e.g. ${samples.join(" | ")}`,
    );
  }
  return [...notes, ...goProxyLogNotes(tmp)];
}

/** How much the Go proxy logged (it logs every request at length, at no level one can lower). */
function goProxyLogNotes(tmp: string): string[] {
  let lines = 0;
  let requests = 0;
  for (const file of readdirSync(tmp)) {
    if (!file.startsWith("go-proxy-") || !file.endsWith(".log")) continue;
    for (const line of readFileSync(join(tmp, file), "utf8").split("\n")) {
      if (line === "") continue;
      lines++;
      if (line.startsWith("[GIN]")) requests++;
    }
  }
  return lines === 0
    ? []
    : [
        `go-proxy wrote ${lines} log lines for ${requests} requests (${(lines / Math.max(1, requests)).toFixed(1)} a request).`,
      ];
}

function writeOutputs(
  report: Report,
  options: Options,
  resultsDir: string,
  benchStart: number,
  cpuStart: ReturnType<typeof cpuTimes>,
): void {
  report.durationS = (performance.now() - benchStart) / 1000;
  const share = cpuShare(cpuStart, cpuTimes());
  report.machine.steal = share.steal;
  report.machine.busy = share.busy;
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (!options.profile) {
    writeFileSync(join(resultsDir, "latest.json"), json);
    writeFileSync(
      join(resultsDir, `${report.mode}-${report.startedAt.replace(/[:.]/g, "-")}.json`),
      json,
    );
    if (options.writeDocs) writeDocs(join(REPO, "docs/performance.md"), report);
  } else {
    writeFileSync(join(resultsDir, "profile-run.json"), json);
  }
}

function printProfile(dir: string, requests: number | undefined, root: string): void {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) {
    log(`no .cpuprofile in ${dir}`);
    return;
  }
  const biggest = files
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size)[0] as string;
  const windows = measuredWindows.filter((w) => w.id === "proxy");
  const summary = analyseProfile(biggest, root, 30, windows);
  const text = formatProfile(summary, requests);
  writeFileSync(join(dir, "summary.txt"), `${text}\n`);
  writeFileSync(join(dir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`\n${text}\n\nprofile: ${biggest}\n`);
}

const code = await main().catch(async (error: Error) => {
  log(`bench failed: ${error.stack ?? error.message}`);
  await stopAll().catch(() => {});
  return 1;
});
process.exit(code);
