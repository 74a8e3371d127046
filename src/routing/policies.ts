import type { Strategy } from "../config/topology.ts";
import type { Target } from "./target.ts";

/** Picks one target among those available (not cooling, not yet tried for this request). */
export interface SelectionPolicy {
  select(candidates: readonly Target[]): Target | undefined;
}

/** Random choice in proportion to weights. */
function weightedRandom(candidates: readonly Target[], random: () => number): Target | undefined {
  if (candidates.length <= 1) return candidates[0];
  let total = 0;
  for (const t of candidates) total += t.weight;
  let point = random() * total;
  for (const t of candidates) {
    point -= t.weight;
    if (point < 0) return t;
  }
  return candidates[candidates.length - 1];
}

/**
 * PrioritySelection is a policy that selects among the targets with the lowest priority number,
 * weighted by their weights: provisioned (PTU) deployments first, pay-as-you-go as spill-over.
 */
export class PrioritySelection implements SelectionPolicy {
  private readonly random: () => number;
  constructor(random: () => number = Math.random) {
    this.random = random;
  }
  select(candidates: readonly Target[]): Target | undefined {
    let best = Number.POSITIVE_INFINITY;
    for (const t of candidates) if (t.priority < best) best = t.priority;
    return weightedRandom(
      candidates.filter((t) => t.priority === best),
      this.random,
    );
  }
}

/**
 * RoundRobinSelection is a policy that takes turns in proportion to weights, smoothly
 * (nginx's algorithm: weights 2:1 give a, b, a — not a, a, b).
 */
export class RoundRobinSelection implements SelectionPolicy {
  private readonly current = new Map<string, number>();
  select(candidates: readonly Target[]): Target | undefined {
    let total = 0;
    let best: Target | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (const t of candidates) {
      const score = (this.current.get(t.id) ?? 0) + t.weight;
      this.current.set(t.id, score);
      total += t.weight;
      if (score > bestScore) {
        bestScore = score;
        best = t;
      }
    }
    if (best) this.current.set(best.id, bestScore - total);
    return best;
  }
}

/**
 * LeastBusySelection is a policy that selects the target with the fewest requests in flight.
 * It counts requests, not connections, since requests are multiplexed onto shared connections.
 */
export class LeastBusySelection implements SelectionPolicy {
  select(candidates: readonly Target[]): Target | undefined {
    let best: Target | undefined;
    for (const t of candidates) {
      if (best === undefined || t.health.inFlight < best.health.inFlight) best = t;
    }
    return best;
  }
}

/**
 * LatencySelection is a policy that selects the target with the lowest recent time to first
 * byte (an exponentially weighted average). Targets not yet measured go first, so each gets one.
 */
export class LatencySelection implements SelectionPolicy {
  select(candidates: readonly Target[]): Target | undefined {
    let best: Target | undefined;
    for (const t of candidates) {
      if (t.health.latencyMs === undefined) return t;
      if (best === undefined || t.health.latencyMs < (best.health.latencyMs ?? 0)) best = t;
    }
    return best;
  }
}

export function createPolicy(strategy: Strategy): SelectionPolicy {
  switch (strategy) {
    case "priority":
      return new PrioritySelection();
    case "round-robin":
      return new RoundRobinSelection();
    case "least-busy":
      return new LeastBusySelection();
    case "latency":
      return new LatencySelection();
  }
}
