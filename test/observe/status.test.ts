import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RequestRecord } from "../../src/observe/request-record.ts";
import type { TargetSource, TargetView } from "../../src/observe/route-targets.ts";
import { StatusBoard } from "../../src/observe/status.ts";

const T0 = Date.parse("2026-12-04T12:00:00Z");

function clock(start = T0) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

const chat = (extra: Partial<RequestRecord> = {}): RequestRecord => ({
  operation: "chat.completions",
  model: "gpt-4o",
  deployment: "gpt-4o",
  target: "east/gpt-4o",
  ...extra,
});

function source(views: TargetView[], pools: Record<string, string[]> = {}): TargetSource {
  return {
    pools: () =>
      Object.entries(pools).map(([model, ids]) => ({
        model,
        targets: views.filter((v) => ids.includes(v.id)),
      })),
    all: () => views,
  };
}

describe("status page figures", () => {
  it("gives requests per second, error rate and percentiles over the window", () => {
    const time = clock();
    const board = new StatusBoard({ now: time.now });
    time.advance(300_000); // up five minutes: the window is full
    for (let i = 0; i < 98; i++) board.record(chat({ firstByteMs: 100 }), 200, 1000);
    board.record(chat(), 503, 5000);
    board.record(chat(), 400, 2);
    const { overall, windowSeconds } = board.snapshot();
    assert.equal(windowSeconds, 300);
    assert.equal(overall.requests, 100);
    assert.equal(overall.requestsPerSecond, 0.33);
    assert.equal(overall.errors, 1);
    assert.equal(overall.errorRate, 0.01);
    assert.equal(overall.rejected, 1);
    // Bins are 15 % wide: the percentiles land within 15 % above the true value.
    const within = (value: number | undefined, truth: number) =>
      assert.ok(value !== undefined && value >= truth && value <= truth * 1.15, `${value}`);
    within(overall.latencyMs?.p50, 1000);
    within(overall.latencyMs?.p99, 1000);
    within(overall.firstByteMs?.p50, 100);
  });

  it("forgets requests older than five minutes", () => {
    const time = clock();
    const board = new StatusBoard({ now: time.now });
    board.record(chat(), 200, 10);
    time.advance(200_000);
    board.record(chat(), 200, 10);
    assert.equal(board.snapshot().overall.requests, 2);
    time.advance(150_000);
    assert.equal(board.snapshot().overall.requests, 1);
    time.advance(300_000);
    const snapshot = board.snapshot();
    assert.equal(snapshot.overall.requests, 0);
    assert.equal(snapshot.overall.latencyMs, null);
  });

  it("rates requests over the uptime while it is shorter than the window", () => {
    const time = clock();
    const board = new StatusBoard({ now: time.now });
    time.advance(10_000);
    for (let i = 0; i < 50; i++) board.record(chat(), 200, 10);
    const snapshot = board.snapshot();
    assert.equal(snapshot.windowSeconds, 10);
    assert.equal(snapshot.overall.requestsPerSecond, 5);
  });

  it("shows each configured model's targets, serving or cooling until when and why", () => {
    const time = clock();
    const views: TargetView[] = [
      { id: "east/gpt-4o", resource: "east", deployment: "gpt-4o", coolingUntil: 0, failures: 0 },
      {
        id: "west/gpt-4o",
        resource: "west",
        deployment: "gpt-4o",
        coolingUntil: T0 + 7000,
        failures: 0,
      },
      { id: "east/o3", resource: "east", deployment: "o3", coolingUntil: 0, failures: 0 },
    ];
    const board = new StatusBoard({
      now: time.now,
      targets: source(views, { "gpt-4o": ["east/gpt-4o", "west/gpt-4o"], o3: ["east/o3"] }),
    });
    board.record(
      chat({
        target: "east/gpt-4o",
        attempts: [
          { target: "west/gpt-4o", status: 429, ms: 4, failover: "azure 429" },
          { target: "east/gpt-4o", status: 200, ms: 40 },
        ],
      }),
      200,
      50,
    );
    const { models } = board.snapshot();
    assert.deepEqual(
      models.map((m) => m.model),
      ["gpt-4o", "o3"],
    );
    const gpt4o = models[0];
    assert.deepEqual(gpt4o?.targets, [
      {
        id: "east/gpt-4o",
        resource: "east",
        deployment: "gpt-4o",
        state: "serving",
        coolingUntil: null,
        why: null,
        failuresInRow: 0,
        attempts: 1,
        failedAttempts: 0,
      },
      {
        id: "west/gpt-4o",
        resource: "west",
        deployment: "gpt-4o",
        state: "cooling",
        coolingUntil: "2026-12-04T12:00:07.000Z",
        why: "azure 429",
        failuresInRow: 0,
        attempts: 1,
        failedAttempts: 1,
      },
    ]);
    assert.equal(models[1]?.requests, 0);
    time.advance(8000);
    const later = board.snapshot().models[0]?.targets[1];
    assert.equal(later?.state, "serving");
    assert.equal(later?.why, null);
  });

  it("lists a model seen only in traffic with the target that served it", () => {
    const board = new StatusBoard({ now: clock().now, targets: source([]) });
    board.record(chat({ model: "gpt-4o-mini", target: "default/gpt-4o-mini" }), 200, 5);
    const [row] = board.snapshot().models;
    assert.equal(row?.model, "gpt-4o-mini");
    assert.equal(row?.targets[0]?.resource, "default");
    assert.equal(row?.targets[0]?.deployment, "gpt-4o-mini");
    assert.equal(row?.targets[0]?.state, "serving");
  });

  it("adds up today's tokens per model and per client, and starts again at midnight UTC", () => {
    const time = clock(Date.parse("2026-12-04T23:59:00Z"));
    const board = new StatusBoard({ now: time.now });
    const usage = { prompt: 100, completion: 20, reasoning: 5, cached: 50 };
    board.record(chat({ client: "team-a", usage }), 200, 10);
    board.record(chat({ client: "team-a", usage }), 200, 10);
    board.record(chat({ model: "o3", usage }), 200, 10);
    let tokens = board.snapshot().tokensToday;
    assert.equal(tokens.day, "2026-12-04");
    assert.deepEqual(tokens.byModel, [
      { name: "gpt-4o", requests: 2, prompt: 200, completion: 40, reasoning: 10, cached: 100 },
      { name: "o3", requests: 1, prompt: 100, completion: 20, reasoning: 5, cached: 50 },
    ]);
    assert.deepEqual(
      tokens.byClient.map((r) => [r.name, r.prompt]),
      [
        ["team-a", 200],
        ["anonymous", 100],
      ],
    );
    time.advance(120_000);
    tokens = board.snapshot().tokensToday;
    assert.equal(tokens.day, "2026-12-05");
    assert.deepEqual(tokens.byModel, []);
  });

  it("says how many streams are open and when the configuration was loaded", () => {
    const board = new StatusBoard({ now: clock().now, openStreams: () => 3 });
    assert.equal(board.snapshot().configuration, null);
    board.configLoaded("/etc/azure-oai-proxy/config.yaml", T0 - 60_000);
    const snapshot = board.snapshot();
    assert.equal(snapshot.streamsOpen, 3);
    assert.deepEqual(snapshot.configuration, {
      source: "/etc/azure-oai-proxy/config.yaml",
      loadedAt: "2026-12-04T11:59:00.000Z",
    });
  });

  it("shows a model neither configured nor deployed as other", () => {
    const board = new StatusBoard({ now: clock().now, knownModel: (m) => m === "gpt-4o" });
    board.record(chat({ model: "nonsense-1" }), 404, 1);
    board.record(chat({ model: "nonsense-2" }), 404, 1);
    assert.deepEqual(
      board.snapshot().models.map((m) => [m.model, m.requests]),
      [["other", 2]],
    );
  });
});
