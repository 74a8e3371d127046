import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProxyMetrics } from "../../src/observe/metrics.ts";
import type { RequestRecord } from "../../src/observe/request-record.ts";
import { sample, samples } from "../helpers/prometheus.ts";

const chat = (extra: Partial<RequestRecord> = {}): RequestRecord => ({
  operation: "chat.completions",
  model: "gpt-4o",
  deployment: "gpt-4o",
  target: "default/gpt-4o",
  ...extra,
});

describe("Prometheus metrics", () => {
  it("counts requests by operation, model, client and status", async () => {
    const metrics = new ProxyMetrics({ processMetrics: false });
    metrics.record(chat({ client: "team-a" }), 200, 120);
    metrics.record(chat({ client: "team-a" }), 200, 80);
    metrics.record(chat(), 429, 5);
    const text = await metrics.scrape();
    const name = "azure_oai_proxy_requests_total";
    const base = { operation: "chat.completions", model: "gpt-4o" };
    assert.equal(sample(text, name, { ...base, client: "team-a", status: "200" }), 2);
    assert.equal(sample(text, name, { ...base, client: "anonymous", status: "429" }), 1);
  });

  it("counts tokens by model, deployment, client and type", async () => {
    const metrics = new ProxyMetrics({ processMetrics: false });
    const usage = { prompt: 100, completion: 40, reasoning: 10, cached: 64 };
    metrics.record(chat({ client: "team-a", usage }), 200, 100);
    metrics.record(chat({ client: "team-a", usage }), 200, 100);
    const text = await metrics.scrape();
    const labels = { model: "gpt-4o", deployment: "gpt-4o", client: "team-a" };
    const tokens = (type: string) =>
      sample(text, "azure_oai_proxy_tokens_total", { ...labels, type });
    assert.deepEqual(
      [tokens("prompt"), tokens("completion"), tokens("reasoning"), tokens("cached")],
      [200, 80, 20, 128],
    );
  });

  it("observes duration and time to first byte in seconds", async () => {
    const metrics = new ProxyMetrics({ processMetrics: false });
    metrics.record(chat({ firstByteMs: 30 }), 200, 400);
    metrics.record(chat({ firstByteMs: 700 }), 200, 3000);
    const text = await metrics.scrape();
    const labels = { operation: "chat.completions", model: "gpt-4o" };
    const duration = "azure_oai_proxy_request_duration_seconds";
    assert.equal(sample(text, `${duration}_count`, labels), 2);
    assert.equal(sample(text, `${duration}_sum`, labels), 3.4);
    assert.equal(sample(text, `${duration}_bucket`, { ...labels, le: "0.5" }), 1);
    assert.equal(sample(text, `${duration}_bucket`, { ...labels, le: "5" }), 2);
    assert.equal(sample(text, `${duration}_bucket`, { ...labels, le: "+Inf" }), 2);
    const ttfb = "azure_oai_proxy_time_to_first_byte_seconds";
    assert.equal(sample(text, `${ttfb}_bucket`, { ...labels, le: "0.05" }), 1);
    assert.equal(sample(text, `${ttfb}_bucket`, { ...labels, le: "1" }), 2);
  });

  it("counts every upstream attempt and each move to another target", async () => {
    const metrics = new ProxyMetrics({ processMetrics: false });
    metrics.record(
      chat({
        target: "sweden/gpt-4o",
        attempts: [
          { target: "east/gpt-4o", status: 429, ms: 3, failover: "azure 429" },
          { target: "west/gpt-4o", ms: 10_000, failover: "upstream_timeout" },
          { target: "sweden/gpt-4o", status: 200, ms: 50 },
        ],
      }),
      200,
      10_060,
    );
    // One attempt, not listed: the record's own target and status describe it.
    metrics.record(chat({ target: "east/gpt-4o" }), 200, 40);
    const text = await metrics.scrape();
    const upstream = "azure_oai_proxy_upstream_requests_total";
    const at = (resource: string, status: string) =>
      sample(text, upstream, { resource, deployment: "gpt-4o", status });
    assert.equal(at("east", "429"), 1);
    assert.equal(at("east", "200"), 1);
    assert.equal(at("west", "error"), 1);
    assert.equal(at("sweden", "200"), 1);
    const failovers = "azure_oai_proxy_failovers_total";
    assert.equal(sample(text, failovers, { model: "gpt-4o", reason: "azure 429" }), 1);
    assert.equal(sample(text, failovers, { model: "gpt-4o", reason: "upstream_timeout" }), 1);
  });

  it("does not count a failover when the last attempt had nowhere to go", async () => {
    const metrics = new ProxyMetrics({ processMetrics: false });
    metrics.record(
      chat({ attempts: [{ target: "east/gpt-4o", status: 503, ms: 3, failover: "azure 503" }] }),
      503,
      5,
    );
    const text = await metrics.scrape();
    assert.equal(samples(text, "azure_oai_proxy_failovers_total").length, 0);
  });

  it("counts a model that is neither configured nor a deployment as other", async () => {
    const known = new Set(["gpt-4o"]);
    const metrics = new ProxyMetrics({ processMetrics: false, knownModel: (m) => known.has(m) });
    metrics.record(chat({ model: "gpt-4o" }), 200, 10);
    metrics.record(chat({ model: "made-up-1" }), 404, 10);
    metrics.record(chat({ model: "made-up-2" }), 404, 10);
    metrics.record(chat({ operation: "POST /v1/files", model: undefined }), 200, 10);
    const text = await metrics.scrape();
    const models = new Set(
      samples(text, "azure_oai_proxy_requests_total").map((s) => s.labels.model),
    );
    assert.deepEqual([...models].sort(), ["gpt-4o", "none", "other"]);
    assert.equal(
      sample(text, "azure_oai_proxy_requests_total", { model: "other", status: "404" }),
      2,
    );
  });

  it("keeps each label to a bounded number of values", async () => {
    const metrics = new ProxyMetrics({ processMetrics: false, maxLabelValues: 3 });
    for (let i = 0; i < 10; i++) metrics.record(chat({ client: `client-${i}` }), 200, 1);
    const text = await metrics.scrape();
    const clients = samples(text, "azure_oai_proxy_requests_total").map((s) => s.labels.client);
    assert.deepEqual(clients.sort(), ["client-0", "client-1", "client-2", "other"]);
    assert.equal(sample(text, "azure_oai_proxy_requests_total", { client: "other" }), 7);
  });

  it("reads target availability from the health source at scrape time", async () => {
    let cooling = false;
    const metrics = new ProxyMetrics({
      processMetrics: false,
      targets: () => [
        { resource: "east", deployment: "gpt-4o", available: !cooling },
        { resource: "west", deployment: "gpt-4o", available: true },
      ],
    });
    const gauge = "azure_oai_proxy_target_available";
    let text = await metrics.scrape();
    assert.equal(sample(text, gauge, { resource: "east", deployment: "gpt-4o" }), 1);
    cooling = true;
    text = await metrics.scrape();
    assert.equal(sample(text, gauge, { resource: "east", deployment: "gpt-4o" }), 0);
    assert.equal(sample(text, gauge, { resource: "west", deployment: "gpt-4o" }), 1);
  });

  it("shows how many streams are open", async () => {
    const metrics = new ProxyMetrics({ processMetrics: false });
    metrics.streamOpened();
    metrics.streamOpened();
    metrics.streamClosed();
    const text = await metrics.scrape();
    assert.equal(sample(text, "azure_oai_proxy_active_streams"), 1);
  });

  it("includes prom-client's process metrics and declares every metric's type", async () => {
    const metrics = new ProxyMetrics();
    metrics.record(
      chat({ firstByteMs: 5, usage: { prompt: 1, completion: 1, reasoning: 0, cached: 0 } }),
      200,
      10,
    );
    const text = await metrics.scrape();
    assert.ok(sample(text, "process_cpu_user_seconds_total") !== undefined);
    assert.ok(sample(text, "nodejs_eventloop_lag_seconds") !== undefined);
    for (const [name, type] of [
      ["azure_oai_proxy_requests_total", "counter"],
      ["azure_oai_proxy_request_duration_seconds", "histogram"],
      ["azure_oai_proxy_time_to_first_byte_seconds", "histogram"],
      ["azure_oai_proxy_upstream_requests_total", "counter"],
      ["azure_oai_proxy_failovers_total", "counter"],
      ["azure_oai_proxy_target_available", "gauge"],
      ["azure_oai_proxy_tokens_total", "counter"],
      ["azure_oai_proxy_active_streams", "gauge"],
    ]) {
      assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, "m"));
    }
    assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
  });

  it("records a request in microseconds, not more", () => {
    const metrics = new ProxyMetrics({ processMetrics: false });
    const record = chat({
      client: "team-a",
      firstByteMs: 20,
      usage: { prompt: 10, completion: 5, reasoning: 0, cached: 0 },
    });
    const n = 40_000;
    for (let i = 0; i < 10_000; i++) metrics.record(record, 200, 50);
    // The best of five rounds: other work on a shared machine only ever adds time.
    let microseconds = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 5; round++) {
      const started = performance.now();
      for (let i = 0; i < n; i++) metrics.record(record, 200, 50);
      microseconds = Math.min(microseconds, ((performance.now() - started) * 1000) / n);
    }
    // Generous: 0.5 µs measured on an idle core.
    assert.ok(microseconds < 5, `${microseconds.toFixed(3)} µs per record`);
  });
});
