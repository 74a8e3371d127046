import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ResourceConfig, Topology } from "../../src/config/topology.ts";
import { availabilityOf, routeTableTargets } from "../../src/observe/route-targets.ts";
import { HealthRegistry, RouteTable } from "../../src/routing/route-table.ts";

const resource = (name: string): ResourceConfig => ({
  name,
  endpoint: `https://${name}.openai.azure.com`,
  apiStyle: "dated",
  apiVersion: "2024-10-21",
  apiKey: "k",
});

function table(registry = new HealthRegistry()): RouteTable {
  const east = resource("east");
  const west = resource("west");
  const topology: Topology = {
    resources: new Map([
      ["east", east],
      ["west", west],
    ]),
    fallback: east,
    clients: new Map(),
    models: new Map([
      [
        "gpt-4o",
        {
          name: "gpt-4o",
          strategy: "priority",
          targets: [
            { resource: "east", deployment: "gpt-4o", priority: 0, weight: 1 },
            { resource: "west", deployment: "gpt-4o", priority: 1, weight: 1 },
          ],
        },
      ],
    ]),
    source: "test.yaml",
  };
  return new RouteTable(topology, registry);
}

describe("targets of the route table, for metrics and status", () => {
  it("lists configured pools and fallback targets with their health", () => {
    const routes = table();
    routes.fallback("gpt-4o-mini");
    const west = routes.configured("gpt-4o")?.targets[1];
    west?.health.failed(Date.now());
    const source = routeTableTargets(() => routes);
    assert.deepEqual(
      [...source.pools()].map((p) => [p.model, p.targets.map((t) => t.id)]),
      [["gpt-4o", ["east/gpt-4o", "west/gpt-4o"]]],
    );
    assert.deepEqual(
      [...source.all()].map((t) => t.id),
      ["east/gpt-4o", "west/gpt-4o", "east/gpt-4o-mini"],
    );
    const availability = [...availabilityOf(source)()];
    assert.deepEqual(availability, [
      { resource: "east", deployment: "gpt-4o", available: true },
      { resource: "west", deployment: "gpt-4o", available: false },
      { resource: "east", deployment: "gpt-4o-mini", available: true },
    ]);
  });

  it("reads the table in force after a reload, with health kept", () => {
    const registry = new HealthRegistry();
    let routes = table(registry);
    routes.configured("gpt-4o")?.targets[0]?.health.failed(Date.now());
    const source = routeTableTargets(() => routes);
    routes = table(registry);
    const east = [...source.all()].find((t) => t.id === "east/gpt-4o");
    assert.equal(east?.failures, 1);
  });
});
