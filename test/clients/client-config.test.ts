import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { modelAllowed } from "../../src/config/clients.ts";
import type { AzureConfig } from "../../src/config/config.ts";
import { parseTopology, TopologyError } from "../../src/config/topology.ts";

const azure: AzureConfig = {
  endpoint: "https://my.openai.azure.com",
  apiStyle: "dated",
  apiVersion: "2025-04-01-preview",
  apiKey: "server-key",
  emulator: false,
};

const example = `
clients:
  team-a:
    key: \${TEAM_A_KEY}
    models: [gpt-4o, text-embedding-3-small]
    limits:
      rpm: 60
      tpm: 100000
      tokensPerDay: 2000000
  batch-jobs:
    keySha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
`;

async function problemsOf(text: string, env: Record<string, string> = {}): Promise<string[]> {
  try {
    await parseTopology(text, "proxy.yaml", azure, env);
  } catch (error) {
    assert.ok(error instanceof TopologyError);
    return [...error.problems];
  }
  assert.fail("expected a TopologyError");
}

describe("the clients section", () => {
  it("reads the documented example: keys as digests, allow-lists, limits", async () => {
    const topology = await parseTopology(example, "proxy.yaml", azure, {
      TEAM_A_KEY: "sk-team-a-secret",
    });
    const teamA = topology.clients.get("team-a");
    assert.deepEqual(
      teamA?.keyDigest,
      createHash("sha256").update("sk-team-a-secret").digest(),
      "the key is kept only as its sha256",
    );
    assert.deepEqual(teamA?.policy.limits, { rpm: 60, tpm: 100000, tokensPerDay: 2000000 });
    assert.ok(teamA && modelAllowed(teamA.policy, "GPT-4o"), "model names are case-insensitive");
    assert.ok(teamA && !modelAllowed(teamA.policy, "gpt-4.1"));
    const batch = topology.clients.get("batch-jobs");
    assert.equal(
      batch?.keyDigest.toString("hex"),
      createHash("sha256").update("test").digest("hex"),
    );
    assert.equal(batch?.policy.models, undefined, "no list allows every model");
    assert.deepEqual(batch?.policy.limits, {
      rpm: undefined,
      tpm: undefined,
      tokensPerDay: undefined,
    });
  });

  it("names the field path of every bad client field, without echoing a key", async () => {
    const problems = await problemsOf(`
clients:
  anonymous: { key: abcdefghij }
  no-key: { models: [gpt-4o] }
  both: { key: abcdefghij, keySha256: ${"a".repeat(64)} }
  short: { key: hunter2 }
  bad-hex: { keySha256: xyz }
  odd:
    key: 0123456789
    models: []
    limits: { rpm: 0, tpm: 1.5, perHour: 3 }
    colour: blue
`);
    assert.deepEqual(problems, [
      'clients.anonymous: a client name is 1 to 64 letters, digits, ".", "_" or "-" (and not "anonymous")',
      "clients.no-key: needs exactly one of key or keySha256",
      "clients.both: needs exactly one of key or keySha256",
      "clients.short.key: must be a string of at least 8 characters (quote it if YAML reads a number)",
      'clients.bad-hex.keySha256: must be 64 hex characters (the output of: printf %s "$KEY" | sha256sum)',
      "clients.odd.colour: unknown field (expected key, keySha256, models, limits)",
      "clients.odd.key: must be a string of at least 8 characters (quote it if YAML reads a number)",
      "clients.odd.models: must be a non-empty list of model names (omit it to allow all)",
      "clients.odd.limits.perHour: unknown field (expected rpm, tpm, tokensPerDay)",
      "clients.odd.limits.rpm: must be a whole number ≥ 1, got 0",
      "clients.odd.limits.tpm: must be a whole number ≥ 1, got 1.5",
    ]);
    assert.ok(!problems.join("\n").includes("hunter2"));
  });

  it("refuses two clients with the same key", async () => {
    const problems = await problemsOf(`
clients:
  one: { key: same-key-123 }
  two: { keySha256: ${createHash("sha256").update("same-key-123").digest("hex")} }
`);
    assert.deepEqual(problems, ["clients.two: has the same key as clients.one"]);
  });

  it("needs server-held Azure keys, since clients present proxy keys", async () => {
    const problems = await problemsOf(`
resources:
  east: { endpoint: https://east.openai.azure.com }
clients:
  one: { key: some-key-123 }
`);
    assert.deepEqual(problems, [
      "resources.east.apiKey: required when clients or AZURE_OPENAI_PROXY_API_KEYS are set (clients present proxy keys, not Azure keys), unless the resource uses auth: entra",
    ]);
  });
});
