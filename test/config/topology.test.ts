import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AzureConfig } from "../../src/config/config.ts";
import { checkTopology, parseTopology, TopologyError } from "../../src/config/topology.ts";

const noEnvResource: AzureConfig = {
  endpoint: undefined,
  apiStyle: "dated",
  apiVersion: "2025-04-01-preview",
  apiKey: undefined,
  emulator: false,
};

const example = `
resources:
  eastus:
    endpoint: https://my-eastus.openai.azure.com/
    apiKey: \${AZURE_EASTUS_KEY}
    apiVersion: 2025-04-01-preview
  sweden:
    endpoint: https://my-sweden.openai.azure.com
    apiKey: \${AZURE_SWEDEN_KEY}
    apiVersion: v1
models:
  gpt-4o:
    strategy: priority
    targets:
      - { resource: eastus, deployment: gpt-4o-ptu, priority: 0 }
      - { resource: sweden, deployment: gpt-4o, priority: 1, weight: 2 }
  text-embedding-3-small:
    targets: [{ resource: sweden, deployment: emb-small }]
`;
const keys = { AZURE_EASTUS_KEY: "k-east", AZURE_SWEDEN_KEY: "k: #sweden" };

async function problemsOf(text: string, env: Record<string, string> = keys): Promise<string[]> {
  try {
    await parseTopology(text, "proxy.yaml", noEnvResource, env);
  } catch (error) {
    assert.ok(error instanceof TopologyError);
    return [...error.problems];
  }
  assert.fail("expected a TopologyError");
}

describe("parseTopology", () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the text names the file's own syntax
  it("reads the documented example, replacing ${VAR} inside values", async () => {
    const topology = await parseTopology(example, "proxy.yaml", noEnvResource, keys);
    const eastus = topology.resources.get("eastus");
    assert.equal(eastus?.endpoint, "https://my-eastus.openai.azure.com");
    assert.equal(eastus?.apiKey, "k-east");
    assert.equal(
      topology.resources.get("sweden")?.apiKey,
      "k: #sweden",
      "a secret's characters stay inside the value",
    );
    assert.equal(topology.resources.get("sweden")?.apiStyle, "v1");
    assert.equal(topology.fallback?.name, "eastus", "the first resource serves models not listed");
    const pool = topology.models.get("gpt-4o");
    assert.equal(pool?.strategy, "priority");
    assert.deepEqual(pool?.targets[1], {
      resource: "sweden",
      deployment: "gpt-4o",
      priority: 1,
      weight: 2,
    });
    assert.equal(
      topology.models.get("text-embedding-3-small")?.strategy,
      "priority",
      "priority is the default",
    );
  });

  it("names the path of a bad field", async () => {
    const problems = await problemsOf(
      example.replace(
        "resource: sweden, deployment: gpt-4o,",
        "resource: swedn, deployment: gpt-4o,",
      ),
    );
    assert.deepEqual(problems, [
      'models.gpt-4o.targets[1].resource: unknown resource "swedn" (known: eastus, sweden)',
    ]);
  });

  it("reports every problem at once", async () => {
    const problems = await problemsOf(`
resources:
  a: { endpoint: ftp://x }
  b: { apiKey: x }
models:
  m:
    strategy: fastest
    targets: [{ resource: a, deployment: "../x", weight: 0 }]
  n: { targets: [] }
  o: { targets: [{ deployment: d }], extra: 1 }
`);
    for (const expected of [
      "resources.a.endpoint: must be an http:// or https:// URL",
      "resources.b.endpoint: required",
      'models.m.strategy: "fastest"',
      "models.m.targets[0].deployment:",
      "models.m.targets[0].weight: must be a whole number ≥ 1",
      "models.n.targets: must be a non-empty list",
      "models.o.extra: unknown field",
      "models.o.targets[0].resource: required",
    ]) {
      assert.ok(
        problems.some((p) => p.startsWith(expected)),
        `${expected} in:\n${problems.join("\n")}`,
      );
    }
  });

  it("names a missing environment variable", async () => {
    const problems = await problemsOf(example, { AZURE_EASTUS_KEY: "x" });
    assert.deepEqual(problems, [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the message quotes the file's syntax
      "${AZURE_SWEDEN_KEY}: the environment variable AZURE_SWEDEN_KEY is not set",
    ]);
  });

  it("refuses YAML that does not parse", async () => {
    assert.match((await problemsOf("resources: ["))[0] ?? "", /not valid YAML/);
  });

  it("keeps the environment's resource as 'default' and falls back to it without file resources", async () => {
    const env: AzureConfig = {
      ...noEnvResource,
      endpoint: "https://env.openai.azure.com",
      apiKey: "k",
    };
    const topology = await parseTopology(
      "models:\n  gpt-4o:\n    targets: [{ resource: default, deployment: d }]\n",
      "proxy.yaml",
      env,
      {},
    );
    assert.equal(topology.fallback?.endpoint, "https://env.openai.azure.com");
    assert.equal(topology.models.get("gpt-4o")?.targets[0]?.resource, "default");
  });

  it("needs server-held keys on every resource when clients present proxy keys", async () => {
    const topology = await parseTopology(
      "resources:\n  a: { endpoint: https://a.openai.azure.com }\n",
      "proxy.yaml",
      noEnvResource,
      {},
    );
    assert.throws(
      () => checkTopology(topology, { clientKeys: ["team"] }),
      (e: unknown) =>
        e instanceof TopologyError && /resources\.a\.apiKey: required/.test(e.problems[0] ?? ""),
    );
  });
});

describe("parseTopology: every problem at once", () => {
  it("reports a bad resource once, not again as an unknown resource of its targets", async () => {
    const found = await problemsOf(
      "resources:\n  eastus: { endpoint: ftp://x }\nmodels:\n  gpt-4o:\n    targets: [{ resource: eastus, deployment: d }]\n",
    );
    assert.deepEqual(found, [
      'resources.eastus.endpoint: must be an http:// or https:// URL, got "ftp:"',
    ]);
  });

  it("reports missing apiKeys for client keys together with the file's other problems", async () => {
    let found: string[] = [];
    try {
      await parseTopology(
        "resources:\n  a: { endpoint: https://a.openai.azure.com }\n  b: { endpoint: https://b.openai.azure.com, apiKey: k, apiVersion: soon }\n",
        "proxy.yaml",
        noEnvResource,
        {},
        { clientKeys: ["team"] },
      );
      assert.fail("expected a TopologyError");
    } catch (error) {
      assert.ok(error instanceof TopologyError);
      found = [...error.problems];
    }
    assert.equal(found.length, 2, found.join("; "));
    assert.ok(found.some((p) => /^resources\.a\.apiKey: required/.test(p)));
    assert.ok(found.some((p) => /^resources\.b\.apiVersion: "soon"/.test(p)));
  });

  it("refuses a deployment's URL as a resource's endpoint, naming the one to use", async () => {
    const [problem] = await problemsOf(
      "resources:\n  a: { endpoint: 'https://a.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21' }\n",
    );
    assert.match(problem ?? "", /^resources\.a\.endpoint: .*set https:\/\/a\.openai\.azure\.com /);
  });
});
