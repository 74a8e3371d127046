import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AzureConfig } from "../../src/config/config.ts";
import { defaultEntraScope, readEntraSettings } from "../../src/config/entra.ts";
import { ConfigError, readConfig } from "../../src/config/env.ts";
import {
  checkTopology,
  parseTopology,
  TopologyError,
  topologyFromEnv,
} from "../../src/config/topology.ts";

function settings(env: Record<string, string>) {
  const problems: string[] = [];
  const read = readEntraSettings(env, problems);
  return { read, problems };
}

describe("Entra ID settings from the environment", () => {
  it("uses keys unless AZURE_OPENAI_AUTH=entra", () => {
    assert.deepEqual(settings({}).read, { auth: "key", credential: "default", scope: undefined });
  });

  it("reads the credential and scope", () => {
    const { read, problems } = settings({
      AZURE_OPENAI_AUTH: "Entra",
      AZURE_OPENAI_ENTRA_CREDENTIAL: "managed-identity",
      AZURE_OPENAI_ENTRA_SCOPE: "https://ai.azure.com/.default",
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(read, {
      auth: "entra",
      credential: "managed-identity",
      scope: "https://ai.azure.com/.default",
    });
  });

  it("names the variable and the choices for a bad value", () => {
    const { problems } = settings({
      AZURE_OPENAI_AUTH: "aad",
      AZURE_OPENAI_ENTRA_CREDENTIAL: "msi",
      AZURE_OPENAI_ENTRA_SCOPE: "cognitive services",
    });
    assert.deepEqual(problems, [
      'AZURE_OPENAI_AUTH: must be one of key, entra, got "aad"',
      'AZURE_OPENAI_ENTRA_CREDENTIAL: must be one of default, managed-identity, workload-identity, client-secret, cli, got "msi"',
      'AZURE_OPENAI_ENTRA_SCOPE: "cognitive services" is not a scope (e.g. https://cognitiveservices.azure.com/.default or https://ai.azure.com/.default)',
    ]);
  });

  it("refuses a key and Entra ID at once", () => {
    const { problems } = settings({ AZURE_OPENAI_AUTH: "entra", AZURE_OPENAI_API_KEY: "k" });
    assert.deepEqual(problems, [
      "AZURE_OPENAI_API_KEY: not used with AZURE_OPENAI_AUTH=entra (remove one of the two)",
    ]);
  });

  it("picks the scope from the endpoint", () => {
    assert.equal(
      defaultEntraScope("https://my-resource.openai.azure.com"),
      "https://cognitiveservices.azure.com/.default",
    );
    assert.equal(
      defaultEntraScope("https://my-foundry.services.ai.azure.com/anthropic"),
      "https://ai.azure.com/.default",
    );
  });

  it("lets proxy client keys protect an Entra ID resource", () => {
    const config = readConfig({
      AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com",
      AZURE_OPENAI_AUTH: "entra",
      AZURE_OPENAI_PROXY_API_KEYS: "team-a",
    });
    const topology = topologyFromEnv(config.azure);
    assert.deepEqual(topology.fallback?.entra, {
      credential: "default",
      scope: "https://cognitiveservices.azure.com/.default",
    });
    assert.equal(topology.fallback?.apiKey, undefined);
    checkTopology(topology, config);
  });

  it("still needs a credential for client keys with key auth", () => {
    assert.throws(
      () =>
        readConfig({
          AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com",
          AZURE_OPENAI_PROXY_API_KEYS: "team-a",
        }),
      (error: unknown) =>
        error instanceof ConfigError && /AZURE_OPENAI_AUTH=entra/.test(error.problems[0] ?? ""),
    );
  });
});

const azure = (entra?: AzureConfig["entra"]): AzureConfig => ({
  endpoint: undefined,
  apiStyle: "dated",
  apiVersion: "2025-04-01-preview",
  apiKey: undefined,
  ...(entra ? { entra } : {}),
  emulator: false,
});

describe("Entra ID per resource in the configuration file", () => {
  const file = `
resources:
  keyed: { endpoint: https://a.openai.azure.com, apiKey: k }
  keyless: { endpoint: https://b.openai.azure.com, auth: entra, credential: workload-identity }
  foundry: { endpoint: https://c.services.ai.azure.com, auth: entra }
  scoped: { endpoint: https://d.openai.azure.com, auth: entra, scope: "https://example.test/.default" }
`;

  it("mixes key and Entra ID resources, each with its credential and scope", async () => {
    const topology = await parseTopology(file, "proxy.yaml", azure(), {});
    const entraOf = (name: string) => topology.resources.get(name)?.entra;
    assert.equal(entraOf("keyed"), undefined);
    assert.deepEqual(entraOf("keyless"), {
      credential: "workload-identity",
      scope: "https://cognitiveservices.azure.com/.default",
    });
    assert.deepEqual(entraOf("foundry"), {
      credential: "default",
      scope: "https://ai.azure.com/.default",
    });
    assert.equal(entraOf("scoped")?.scope, "https://example.test/.default");
    checkTopology(topology, { clientKeys: ["team-a"] });
  });

  it("makes keyless resources use Entra ID when AZURE_OPENAI_AUTH=entra", async () => {
    const topology = await parseTopology(
      "resources:\n  a: { endpoint: https://a.openai.azure.com }\n  b: { endpoint: https://b.openai.azure.com, apiKey: k }\n",
      "proxy.yaml",
      azure({ auth: "entra", credential: "cli", scope: undefined }),
      {},
    );
    assert.equal(topology.resources.get("a")?.entra?.credential, "cli");
    assert.equal(topology.resources.get("b")?.entra, undefined);
  });

  it("names each bad field", async () => {
    const bad = `
resources:
  a: { endpoint: https://a.openai.azure.com, auth: entra, apiKey: k }
  b: { endpoint: https://b.openai.azure.com, auth: oauth }
  c: { endpoint: https://c.openai.azure.com, apiKey: k, credential: cli }
  d: { endpoint: https://d.openai.azure.com, auth: entra, credential: password }
`;
    await assert.rejects(parseTopology(bad, "proxy.yaml", azure(), {}), (error: unknown) => {
      assert.ok(error instanceof TopologyError);
      assert.deepEqual(error.problems, [
        "resources.a.apiKey: not used with auth: entra (remove one of the two)",
        'resources.b.auth: must be one of key, entra, got "oauth"',
        "resources.c.credential: only used with auth: entra",
        'resources.d.credential: must be one of default, managed-identity, workload-identity, client-secret, cli, got "password"',
      ]);
      return true;
    });
  });
});
