/**
 * Issue 5's proof: failover under load, and what a pool costs.
 *
 *   npm run bench:failover            (about a minute)
 *   npm run bench:failover -- --quick (fewer requests)
 *
 * Starts fake Azure resources (bench/fake-azure.ts, one child process each) and the real proxy
 * (`node src/main.ts --config …`), then:
 *  1. rate limits: 10,000 requests through a two-resource pool where one resource answers 429 to
 *     every other request; counts client-visible errors (target: 0);
 *  2. an outage: streams through a round-robin pool; halfway, one resource is stopped; counts
 *     requests that failed before their first byte (target: 0) and streams cut mid-way (allowed);
 *  3. the cost of a pool: throughput through a one-target pool vs. env-only configuration, same
 *     run (target: ≥ 0.95×).
 * Loopback only; every process it starts is stopped at the end (bench/lib/proc.ts).
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { FakeAzure } from "./lib/children.ts";
import { chatBody, STREAM_HEADER } from "./lib/payloads.ts";
import { freePort, killAllNow, spawnTracked, stopAll, stopChild, waitReady } from "./lib/proc.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const KEY = "bench-key";
/** The fake's streams here: 20 chunks 10 ms apart. */
const STREAM = "20;10";

interface Proxy {
  readonly child: ChildProcess;
  readonly url: string;
}

async function startProxy(env: Record<string, string>, args: string[] = []): Promise<Proxy> {
  const port = await freePort();
  const started = performance.now();
  const child = spawnTracked("proxy", process.execPath, [join(ROOT, "src/main.ts"), ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      AZURE_OPENAI_PROXY_ADDRESS: `127.0.0.1:${port}`,
      BENCH_KEY: KEY,
      ...env,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitReady(port, "/healthz", started, 10_000, child, 25);
  return { child, url: `http://127.0.0.1:${port}` };
}

const stop = (proxy: Proxy) => stopChild(proxy.child, "SIGTERM", 5000);

async function configFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "aop-bench-"));
  const file = join(dir, "proxy.yaml");
  await writeFile(file, text);
  return file;
}

/** `total` requests over `connections` keep-alive connections; returns statuses and timing. */
async function load(
  url: string,
  total: number,
  connections: number,
  stream: boolean,
  onProgress?: (done: number) => void,
): Promise<{ ok: number; errors: Map<string, number>; cutMidStream: number; seconds: number }> {
  const pool = new Pool(url, { connections, pipelining: 1 });
  const errors = new Map<string, number>();
  let ok = 0;
  let cutMidStream = 0;
  let next = 0;
  let done = 0;
  const body = chatBody(stream);
  const started = performance.now();
  const worker = async () => {
    while (next < total) {
      next += 1;
      let gotBytes = false;
      try {
        const response = await pool.request({
          path: "/v1/chat/completions",
          method: "POST",
          headers: {
            "content-type": "application/json",
            "api-key": KEY,
            ...(stream ? { [STREAM_HEADER]: STREAM } : {}),
          },
          body,
        });
        let text = "";
        for await (const c of response.body) {
          gotBytes = true;
          text += c.toString();
        }
        if (response.statusCode !== 200) {
          const key = `status ${response.statusCode}`;
          errors.set(key, (errors.get(key) ?? 0) + 1);
        } else if (stream && text.includes('"error"')) cutMidStream += 1;
        else if (stream && !text.includes("[DONE]")) cutMidStream += 1;
        else ok += 1;
      } catch (error) {
        if (gotBytes) cutMidStream += 1;
        else {
          const key = (error as { code?: string }).code ?? "error";
          errors.set(key, (errors.get(key) ?? 0) + 1);
        }
      }
      done += 1;
      onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  await pool.close();
  return { ok, errors, cutMidStream, seconds: (performance.now() - started) / 1000 };
}

const fmtErrors = (errors: Map<string, number>) =>
  errors.size === 0 ? "none" : [...errors].map(([k, v]) => `${k}: ${v}`).join(", ");

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const results: Record<string, unknown> = {};

  // 1. One resource answers 429 to every other request.
  {
    const [limited, healthy] = [await FakeAzure.start("half-429"), await FakeAzure.start()];
    const file = await configFile(`
resources:
  limited: { endpoint: ${limited.url}, apiKey: "\${BENCH_KEY}" }
  healthy: { endpoint: ${healthy.url}, apiKey: "\${BENCH_KEY}" }
models:
  gpt-4o:
    strategy: round-robin
    targets:
      - { resource: limited, deployment: gpt-4o }
      - { resource: healthy, deployment: gpt-4o }
`);
    const proxy = await startProxy({ LOG_LEVEL: "warn" }, ["--config", file]);
    const total = quick ? 2000 : 10_000;
    const run = await load(proxy.url, total, 50, false);
    results.rateLimits = {
      requests: total,
      ok: run.ok,
      clientErrors: Object.fromEntries(run.errors),
      seconds: run.seconds,
    };
    console.log(
      `rate limits: ${total} requests, one resource 429-ing half its requests: ${run.ok} ok, client-visible errors: ${fmtErrors(run.errors)} (${run.seconds.toFixed(1)} s)`,
    );
    await stop(proxy);
    await Promise.all([limited.stop(), healthy.stop()]);
  }

  // 2. One resource stops in the middle of a streaming run.
  {
    const [east, west] = [await FakeAzure.start(), await FakeAzure.start()];
    const file = await configFile(`
resources:
  east: { endpoint: ${east.url}, apiKey: "\${BENCH_KEY}" }
  west: { endpoint: ${west.url}, apiKey: "\${BENCH_KEY}" }
models:
  gpt-4o:
    strategy: round-robin
    targets:
      - { resource: east, deployment: gpt-4o }
      - { resource: west, deployment: gpt-4o }
`);
    const proxy = await startProxy({ LOG_LEVEL: "warn" }, ["--config", file]);
    const total = quick ? 1000 : 4000;
    let stopped = false;
    const run = await load(proxy.url, total, 100, true, (done) => {
      if (!stopped && done >= total / 2) {
        stopped = true;
        void east.outage();
      }
    });
    results.outage = {
      streams: total,
      ok: run.ok,
      failedBeforeFirstByte: Object.fromEntries(run.errors),
      cutMidStream: run.cutMidStream,
    };
    console.log(
      `outage: ${total} streams, one resource stopped halfway: ${run.ok} complete, failed before their first byte: ${fmtErrors(run.errors)}, cut mid-stream (allowed): ${run.cutMidStream}`,
    );
    await stop(proxy);
    await Promise.all([east.stop(), west.stop()]);
  }

  // 3. What a one-target pool costs, against env-only configuration, in the same run.
  {
    const fake = await FakeAzure.start();
    const file = await configFile(`
resources:
  only: { endpoint: ${fake.url}, apiKey: "\${BENCH_KEY}" }
models:
  gpt-4o:
    targets: [{ resource: only, deployment: gpt-4o }]
`);
    const total = quick ? 5000 : 20_000;
    const rounds = quick ? 1 : 3;
    const rates = { env: [] as number[], pool: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      for (const kind of ["env", "pool"] as const) {
        const proxy =
          kind === "env"
            ? await startProxy({ AZURE_OPENAI_ENDPOINT: fake.url, AZURE_OPENAI_API_KEY: KEY })
            : await startProxy({}, ["--config", file]);
        await load(proxy.url, 1000, 50, false); // warm-up
        const run = await load(proxy.url, total, 50, false);
        rates[kind].push(run.ok / run.seconds);
        await stop(proxy);
      }
    }
    const best = (xs: number[]) => Math.max(...xs);
    const ratio = best(rates.pool) / best(rates.env);
    results.poolCost = { envRps: best(rates.env), poolRps: best(rates.pool), ratio, target: 0.95 };
    console.log(
      `pool cost: env-only ${best(rates.env).toFixed(0)} req/s, one-target pool ${best(rates.pool).toFixed(0)} req/s: ${ratio.toFixed(3)}× (target ≥ 0.95×, best of ${rounds})`,
    );
    await fake.stop();
  }
  console.log(JSON.stringify(results));
}

process.once("exit", killAllNow);
process.once("SIGINT", () => {
  killAllNow();
  process.exit(130);
});
const deadline = setTimeout(() => {
  console.error("bench/failover.ts: took longer than 5 minutes; stopping");
  killAllNow();
  process.exit(1);
}, 300_000);
deadline.unref();
await main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
