import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ResourceConfig } from "../../src/config/topology.ts";
import { TargetHealth } from "../../src/routing/health.ts";
import {
  LatencySelection,
  LeastBusySelection,
  PrioritySelection,
  RoundRobinSelection,
} from "../../src/routing/policies.ts";
import { Pool } from "../../src/routing/pool.ts";
import type { Target } from "../../src/routing/target.ts";

const resource: ResourceConfig = {
  name: "r",
  endpoint: "https://r",
  apiStyle: "dated",
  apiVersion: "2025-04-01-preview",
  apiKey: "k",
};
function target(id: string, priority = 0, weight = 1): Target {
  return { id, resource, deployment: id, priority, weight, health: new TargetHealth() };
}
function tally(pick: () => Target | undefined, n: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const id = pick()?.id ?? "none";
    counts[id] = (counts[id] ?? 0) + 1;
  }
  return counts;
}

describe("selection policies", () => {
  it("round-robin takes turns in proportion to weights, smoothly", () => {
    const policy = new RoundRobinSelection();
    const targets = [target("a", 0, 2), target("b", 0, 1)];
    const order = Array.from({ length: 6 }, () => policy.select(targets)?.id).join("");
    assert.equal(order, "abaaba");
  });

  it("priority uses the lowest priority number, weighted among equals", () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const policy = new PrioritySelection(random);
    const targets = [target("ptu-1", 0, 3), target("ptu-2", 0, 1), target("paygo", 1, 10)];
    const counts = tally(() => policy.select(targets), 4000);
    assert.equal(counts.paygo, undefined, "spill-over only when the first tier is unavailable");
    const share = (counts["ptu-1"] ?? 0) / 4000;
    assert.ok(share > 0.7 && share < 0.8, `ptu-1 got ${share}`);
  });

  it("priority spills over to the next tier when the first is cooling", () => {
    const targets = [target("ptu", 0), target("paygo", 1)];
    const pool = new Pool(targets, new PrioritySelection());
    targets[0]?.health.rateLimited({ "retry-after": "10" }, Date.now());
    assert.equal(pool.pick(new Set(), Date.now())?.id, "paygo");
  });

  it("least-busy picks the target with the fewest requests in flight", () => {
    const targets = [target("a"), target("b"), target("c")];
    (targets[0] as Target).health.inFlight = 3;
    (targets[1] as Target).health.inFlight = 1;
    (targets[2] as Target).health.inFlight = 2;
    assert.equal(new LeastBusySelection().select(targets)?.id, "b");
  });

  it("latency tries unmeasured targets first, then the fastest", () => {
    const targets = [target("slow"), target("fast"), target("new")];
    targets[0]?.health.succeeded(300);
    targets[1]?.health.succeeded(20);
    const policy = new LatencySelection();
    assert.equal(policy.select(targets)?.id, "new");
    targets[2]?.health.succeeded(100);
    assert.equal(policy.select(targets)?.id, "fast");
  });
});

describe("Pool", () => {
  it("skips targets already tried and cooling; reports the soonest recovery", () => {
    const targets = [target("a"), target("b")];
    const pool = new Pool(targets, new RoundRobinSelection());
    const now = Date.now();
    targets[0]?.health.rateLimited({ "retry-after-ms": "5000" }, now);
    assert.equal(pool.pick(new Set(), now)?.id, "b");
    assert.equal(pool.pick(new Set([targets[1] as Target]), now), undefined);
    assert.equal(pool.soonestAvailable(), 0, "b is not cooling");
    targets[1]?.health.rateLimited({ "retry-after-ms": "2000" }, now);
    assert.equal(pool.soonestAvailable(), now + 2000);
  });

  it("never holds back the single target of env-only configuration", () => {
    const only = target("a");
    const pool = new Pool([only], new PrioritySelection(), false);
    only.health.failed(Date.now());
    assert.equal(pool.pick(new Set(), Date.now())?.id, "a");
  });
});
