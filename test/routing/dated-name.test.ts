import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { indexDeployments } from "../../src/azure/deployment-index.ts";
import { undatedName } from "../../src/routing/dated-name.ts";
import { resolveDeployment } from "../../src/routing/resolve-deployment.ts";

const none = new Map<string, string>();

describe("undatedName", () => {
  it("strips -YYYY-MM-DD and -YYYYMMDD at the end", () => {
    assert.equal(undatedName("gpt-4o-2024-08-06"), "gpt-4o");
    assert.equal(undatedName("gpt-5.2-2025-12-11"), "gpt-5.2");
    assert.equal(undatedName("claude-haiku-4-5-20251001"), "claude-haiku-4-5");
  });

  it("leaves names without a date alone", () => {
    assert.equal(undatedName("gpt-4o"), undefined);
    assert.equal(undatedName("gpt-35-turbo-0613"), undefined);
    assert.equal(undatedName("2024-08-06"), undefined);
  });
});

describe("resolveDeployment with dated names", () => {
  it("resolves gpt-4o-2024-08-06 to the gpt-4o deployment when no deployment has the full name", () => {
    const known = indexDeployments([{ id: "gpt-4o", model: "gpt-4o" }]);
    assert.equal(resolveDeployment("gpt-4o-2024-08-06", none, known), "gpt-4o");
  });

  it("finds a deployment serving the undated model", () => {
    const known = indexDeployments([{ id: "prod-claude", model: "claude-haiku-4-5" }]);
    assert.equal(resolveDeployment("claude-haiku-4-5-20251001", none, known), "prod-claude");
  });

  it("keeps the full name when a deployment has it", () => {
    const known = indexDeployments([
      { id: "gpt-4o", model: "gpt-4o" },
      { id: "gpt-4o-2024-08-06", model: "gpt-4o" },
    ]);
    assert.equal(resolveDeployment("gpt-4o-2024-08-06", none, known), "gpt-4o-2024-08-06");
  });

  it("uses the mapper's entry for the undated name", () => {
    const mapper = new Map([["gpt-5.2", "my-gpt52"]]);
    assert.equal(resolveDeployment("gpt-5.2-2025-12-11", mapper), "my-gpt52");
  });

  it("sends a dated name unchanged when nothing is known about it", () => {
    assert.equal(resolveDeployment("gpt-4o-2024-08-06", none), "gpt-4o-2024-08-06");
  });
});
