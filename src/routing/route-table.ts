import type { ResourceConfig, Topology } from "../config/topology.ts";
import { TargetHealth } from "./health.ts";
import { createPolicy, PrioritySelection } from "./policies.ts";
import { Pool } from "./pool.ts";
import type { Target } from "./target.ts";

/** Health by endpoint and deployment, shared by every route table so it survives reloads. */
export class HealthRegistry {
  private readonly states = new Map<string, TargetHealth>();
  get(resource: ResourceConfig, deployment: string | undefined): TargetHealth {
    const key = `${resource.endpoint}|${deployment ?? ""}`;
    let state = this.states.get(key);
    if (state === undefined) {
      // Bounded: fallback deployment names come from clients.
      if (this.states.size >= 10_000) this.states.clear();
      state = new TargetHealth();
      this.states.set(key, state);
    }
    return state;
  }
}

const SINGLE = new PrioritySelection();

/**
 * The pools of one topology. A reload builds a new table; requests in flight keep the one they
 * started with.
 */
export class RouteTable {
  readonly topology: Topology;
  private readonly registry: HealthRegistry;
  private readonly pools = new Map<string, Pool>();
  private readonly fallbackPools = new Map<string, Pool>();

  constructor(topology: Topology, registry: HealthRegistry) {
    this.topology = topology;
    this.registry = registry;
    for (const [name, route] of topology.models) {
      const targets = route.targets.map((t) => {
        const resource = topology.resources.get(t.resource) as ResourceConfig;
        const target = this.target(resource, t.deployment, t.priority, t.weight);
        return t.api === undefined ? target : { ...target, api: t.api };
      });
      this.pools.set(name, new Pool(targets, createPolicy(route.strategy)));
    }
  }

  /**
   * openai mode: one resource, OpenAI itself, reached as it is (v1 paths, the client's key).
   * Its only pool is the fallback one, without a deployment.
   */
  static forOpenAI(endpoint: string): RouteTable {
    const openai: ResourceConfig = {
      name: "openai",
      endpoint,
      apiStyle: "v1",
      apiVersion: "",
      apiKey: undefined,
    };
    const topology: Topology = {
      resources: new Map([[openai.name, openai]]),
      fallback: openai,
      models: new Map(),
      clients: new Map(),
      source: "environment",
    };
    return new RouteTable(topology, new HealthRegistry());
  }

  /** The configured pool for a client model name, if the file lists it. */
  configured(model: string): Pool | undefined {
    return this.pools.get(model.toLowerCase());
  }

  /** Configured model names, as written. */
  configuredNames(): string[] {
    return [...this.topology.models.values()].map((m) => m.name);
  }

  /** A one-target pool on the fallback resource (deployment undefined: resource-scoped). */
  fallback(deployment: string | undefined): Pool | undefined {
    const resource = this.topology.fallback;
    if (resource === undefined) return undefined;
    const key = deployment ?? "";
    let pool = this.fallbackPools.get(key);
    if (pool === undefined) {
      pool = new Pool([this.target(resource, deployment, 0, 1)], SINGLE, false);
      // Bounded: names come from clients.
      if (this.fallbackPools.size > 1000) this.fallbackPools.clear();
      this.fallbackPools.set(key, pool);
    }
    return pool;
  }

  /** Every target built so far, configured and fallback, each once: for metrics and status. */
  targets(): Target[] {
    const byId = new Map<string, Target>();
    for (const pool of [...this.pools.values(), ...this.fallbackPools.values()]) {
      for (const target of pool.targets) byId.set(target.id, target);
    }
    return [...byId.values()];
  }

  private target(
    resource: ResourceConfig,
    deployment: string | undefined,
    priority: number,
    weight: number,
  ): Target {
    return {
      id: deployment === undefined ? resource.name : `${resource.name}/${deployment}`,
      resource,
      deployment,
      priority,
      weight,
      health: this.registry.get(resource, deployment),
    };
  }
}
