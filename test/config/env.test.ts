import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DEFAULT_API_VERSION } from "../../src/config/api-versions.ts";
import { ConfigError, readConfig, readEnvironment, withDotEnv } from "../../src/config/env.ts";

function problems(env: Record<string, string>): string[] {
  try {
    readConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return [...error.problems];
  }
  assert.fail("expected a ConfigError");
}

describe("readConfig", () => {
  it("has the original proxy's defaults", () => {
    const config = readConfig({ AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com/" });
    assert.equal(config.host, "0.0.0.0");
    assert.equal(config.port, 11437);
    assert.equal(config.mode, "azure");
    assert.equal(config.azure.endpoint, "https://r.openai.azure.com");
    assert.equal(config.azure.apiStyle, "dated");
    assert.equal(config.azure.apiVersion, DEFAULT_API_VERSION);
    assert.equal(config.openaiEndpoint, "https://api.openai.com");
  });

  it("tolerates a trailing slash and a redundant /openai on the endpoint; allows http for emulators", () => {
    const config = readConfig({ AZURE_OPENAI_ENDPOINT: "http://127.0.0.1:8080/openai/" });
    assert.equal(config.azure.endpoint, "http://127.0.0.1:8080");
  });

  it("selects the v1 API style with AZURE_OPENAI_APIVERSION=v1", () => {
    const config = readConfig({ AZURE_OPENAI_APIVERSION: "v1" });
    assert.equal(config.azure.apiStyle, "v1");
    assert.equal(config.azure.apiVersion, "");
  });

  it("parses the model mapper, trimming spaces", () => {
    const config = readConfig({
      AZURE_OPENAI_MODEL_MAPPER: " gpt-3.5-turbo = dev-g35-turbo , GPT-4=gpt-4ooo,",
    });
    assert.equal(config.modelMapper.get("gpt-3.5-turbo"), "dev-g35-turbo");
    assert.equal(config.modelMapper.get("gpt-4"), "gpt-4ooo");
  });

  it("names a malformed mapper entry", () => {
    const [problem] = problems({ AZURE_OPENAI_MODEL_MAPPER: "gpt-4=ok,broken" });
    assert.match(problem ?? "", /AZURE_OPENAI_MODEL_MAPPER: entry "broken"/);
  });

  it("refuses a mapped deployment that would change the URL's shape", () => {
    const [problem] = problems({ AZURE_OPENAI_MODEL_MAPPER: "gpt-4=../admin" });
    assert.match(problem ?? "", /AZURE_OPENAI_MODEL_MAPPER/);
  });

  it("requires the endpoint in production, naming the variable", () => {
    const [problem] = problems({ NODE_ENV: "production" });
    assert.match(problem ?? "", /^AZURE_OPENAI_ENDPOINT: required/);
  });

  it("reads the Redis URL, its failure mode and the admin key for client limits", () => {
    const base = { AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com" };
    const defaults = readConfig(base);
    assert.equal(defaults.redisUrl, undefined, "counters stay in memory by default");
    assert.equal(defaults.redisFailClosed, false, "fail-open by default");
    assert.equal(defaults.adminKey, undefined);
    const set = readConfig({
      ...base,
      AZURE_OPENAI_PROXY_REDIS_URL: "redis://:secret@redis:6379/0",
      AZURE_OPENAI_PROXY_REDIS_FAIL: "closed",
      AZURE_OPENAI_PROXY_ADMIN_KEY: "admin-key-0123456789",
    });
    assert.equal(set.redisUrl, "redis://:secret@redis:6379/0");
    assert.equal(set.redisFailClosed, true);
    assert.equal(set.adminKey, "admin-key-0123456789");
    const found = problems({
      ...base,
      AZURE_OPENAI_PROXY_REDIS_URL: "http://:hunter2@redis",
      AZURE_OPENAI_PROXY_REDIS_FAIL: "maybe",
      AZURE_OPENAI_PROXY_ADMIN_KEY: "short",
    });
    assert.deepEqual(found, [
      "AZURE_OPENAI_PROXY_REDIS_URL: must be a redis:// or rediss:// URL (e.g. redis://redis:6379)",
      'AZURE_OPENAI_PROXY_REDIS_FAIL: must be one of "open", "closed", got "maybe"',
      "AZURE_OPENAI_PROXY_ADMIN_KEY: must be at least 16 characters (e.g. the output of openssl rand -hex 24), got 5",
    ]);
  });

  it("reports every bad variable at once", () => {
    const found = problems({
      AZURE_OPENAI_PROXY_ADDRESS: "nope",
      AZURE_OPENAI_PROXY_MODE: "gcp",
      AZURE_OPENAI_APIVERSION: "latest",
      AZURE_OPENAI_ENDPOINT: "ftp://x",
      LOG_LEVEL: "loud",
      AZURE_OPENAI_PROXY_MAX_BODY_SIZE: "big",
      AZURE_OPENAI_PROXY_RESPONSE_TIMEOUT: "soon",
    });
    for (const name of [
      "AZURE_OPENAI_PROXY_ADDRESS",
      "AZURE_OPENAI_PROXY_MODE",
      "AZURE_OPENAI_APIVERSION",
      "AZURE_OPENAI_ENDPOINT",
      "LOG_LEVEL",
      "AZURE_OPENAI_PROXY_MAX_BODY_SIZE",
      "AZURE_OPENAI_PROXY_RESPONSE_TIMEOUT",
    ]) {
      assert.ok(
        found.some((p) => p.startsWith(`${name}:`)),
        `${name} in ${found.join("; ")}`,
      );
    }
  });

  it("reads the server-held key from AZURE_OPENAI_API_KEY or AZURE_OPENAI_TOKEN", () => {
    assert.equal(readConfig({ AZURE_OPENAI_TOKEN: "t" }).azure.apiKey, "t");
    assert.equal(
      readConfig({ AZURE_OPENAI_API_KEY: "k", AZURE_OPENAI_TOKEN: "t" }).azure.apiKey,
      "k",
    );
  });

  it("needs a server-held key before clients can be given proxy keys", () => {
    const [problem] = problems({
      AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com",
      AZURE_OPENAI_PROXY_API_KEYS: "a,b",
    });
    assert.match(problem ?? "", /^AZURE_OPENAI_PROXY_API_KEYS:/);
    const config = readConfig({
      AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com",
      AZURE_OPENAI_API_KEY: "k",
      AZURE_OPENAI_PROXY_API_KEYS: " a , b ",
    });
    assert.deepEqual(config.clientKeys, ["a", "b"]);
  });

  it("parses sizes and durations with units", () => {
    const config = readConfig({
      AZURE_OPENAI_PROXY_MAX_BODY_SIZE: "2mb",
      AZURE_OPENAI_PROXY_IDLE_TIMEOUT: "1.5s",
      AZURE_OPENAI_PROXY_ADDRESS: "127.0.0.1:9000",
    });
    assert.equal(config.maxBodySize, 2 * 1024 * 1024);
    assert.equal(config.timeouts.idleMs, 1500);
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.port, 9000);
  });
});

describe("withDotEnv", () => {
  it("reads .env under the real environment", () => {
    const dir = mkdtempSync(join(tmpdir(), "aop-env-"));
    writeFileSync(
      join(dir, ".env"),
      "AZURE_OPENAI_ENDPOINT=https://from-file.openai.azure.com\nLOG_LEVEL=debug\n",
    );
    const env = withDotEnv({ LOG_LEVEL: "warn" }, dir);
    assert.equal(env.AZURE_OPENAI_ENDPOINT, "https://from-file.openai.azure.com");
    assert.equal(env.LOG_LEVEL, "warn");
  });
});

describe("readConfig: first-run mistakes", () => {
  const endpoint = "https://r.openai.azure.com";

  it("reads a bare port as all interfaces on that port", () => {
    const config = readConfig({
      AZURE_OPENAI_ENDPOINT: endpoint,
      AZURE_OPENAI_PROXY_ADDRESS: "11437",
    });
    assert.equal(config.host, "0.0.0.0");
    assert.equal(config.port, 11437);
    const colon = readConfig({
      AZURE_OPENAI_ENDPOINT: endpoint,
      AZURE_OPENAI_PROXY_ADDRESS: ":8080",
    });
    assert.deepEqual([colon.host, colon.port], ["0.0.0.0", 8080]);
    const v6 = readConfig({
      AZURE_OPENAI_ENDPOINT: endpoint,
      AZURE_OPENAI_PROXY_ADDRESS: "[::1]:9",
    });
    assert.deepEqual([v6.host, v6.port], ["::1", 9]);
  });

  it("refuses a port over 65535", () => {
    const [problem] = problems({ AZURE_OPENAI_PROXY_ADDRESS: "127.0.0.1:70000" });
    assert.match(problem ?? "", /^AZURE_OPENAI_PROXY_ADDRESS: "127\.0\.0\.1:70000"/);
  });

  it("refuses a deployment's URL as the endpoint, naming the resource's endpoint", () => {
    const [problem] = problems({
      AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com/openai/deployments/gpt-4o",
    });
    assert.match(problem ?? "", /^AZURE_OPENAI_ENDPOINT: .*set https:\/\/r\.openai\.azure\.com /);
    assert.match(problem ?? "", /drop "\/openai\/deployments\/gpt-4o"/);
  });

  it("refuses the portal's Target URI, naming the endpoint to use without the query", () => {
    const [problem] = problems({
      AZURE_OPENAI_ENDPOINT:
        "https://r.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2025-01-01-preview",
    });
    assert.match(problem ?? "", /^AZURE_OPENAI_ENDPOINT: .*set https:\/\/r\.openai\.azure\.com /);
    assert.match(problem ?? "", /\?api-version=2025-01-01-preview"/);
  });

  it("refuses an endpoint with a query, saying to drop it", () => {
    const [problem] = problems({
      AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com/?api-version=2024-10-21",
    });
    assert.match(
      problem ?? "",
      /^AZURE_OPENAI_ENDPOINT: must not carry a query: drop "\?api-version=2024-10-21"/,
    );
  });

  it("keeps a gateway's base path in front of /openai", () => {
    const config = readConfig({
      AZURE_OPENAI_ENDPOINT: "https://apim.example.net/team-a/openai/v1/",
    });
    assert.equal(config.azure.endpoint, "https://apim.example.net/team-a");
  });

  it("refuses an endpoint that is set but empty instead of starting the emulator", () => {
    const [problem] = problems({ AZURE_OPENAI_ENDPOINT: "  " });
    assert.match(problem ?? "", /^AZURE_OPENAI_ENDPOINT: set but empty/);
  });

  it("refuses a model listed twice in the mapper", () => {
    const [problem] = problems({ AZURE_OPENAI_MODEL_MAPPER: "gpt-4=a,GPT-4=b" });
    assert.match(problem ?? "", /^AZURE_OPENAI_MODEL_MAPPER: model "GPT-4" is listed twice/);
  });

  it("normalises CORS origins as browsers send them and refuses what is not an origin", () => {
    const config = readConfig({
      AZURE_OPENAI_PROXY_CORS_ORIGINS:
        "https://App.example/, http://localhost:3000 ,https://b.example:443",
    });
    assert.deepEqual(config.corsOrigins, [
      "https://app.example",
      "http://localhost:3000",
      "https://b.example",
    ]);
    const found = problems({
      AZURE_OPENAI_PROXY_CORS_ORIGINS: "https://a.example/app,app.example,null",
    });
    assert.equal(found.length, 3, found.join("; "));
    for (const problem of found)
      assert.match(problem, /^AZURE_OPENAI_PROXY_CORS_ORIGINS: ".*" is not an origin/);
  });
});

describe("readConfig: where the proxy listens", () => {
  it("listens on 127.0.0.1 while the emulator stands in for Azure", () => {
    const config = readConfig({});
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.port, 11437);
  });

  it("listens on all interfaces when an endpoint, a configuration file or openai mode is set", () => {
    assert.equal(
      readConfig({ AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com" }).host,
      "0.0.0.0",
    );
    assert.equal(readConfig({ AZURE_OPENAI_PROXY_CONFIG: "proxy.yaml" }).host, "0.0.0.0");
    assert.equal(readConfig({ AZURE_OPENAI_PROXY_MODE: "openai" }).host, "0.0.0.0");
  });

  it("honours an address that is set, even with the emulator", () => {
    assert.equal(readConfig({ AZURE_OPENAI_PROXY_ADDRESS: "0.0.0.0:11437" }).host, "0.0.0.0");
    assert.equal(readConfig({ AZURE_OPENAI_PROXY_ADDRESS: "11437" }).host, "0.0.0.0");
  });
});

describe("readEnvironment: warnings", () => {
  it("warns of an unknown AZURE_OPENAI_* variable, naming the closest setting", () => {
    const { warnings } = readEnvironment({
      AZURE_OPENAI_ENDPIONT: "https://r.openai.azure.com",
      azure_openai_apiversion: "v1",
      AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com",
    });
    assert.deepEqual(warnings, [
      "AZURE_OPENAI_ENDPIONT: not a setting of azure-oai-proxy (ignored); did you mean AZURE_OPENAI_ENDPOINT?",
      "azure_openai_apiversion: not a setting of azure-oai-proxy (ignored); did you mean AZURE_OPENAI_APIVERSION?",
    ]);
  });

  it("has no warnings for the documented variables", () => {
    const { warnings } = readEnvironment({
      AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com",
      AZURE_OPENAI_TOKEN: "t",
      AZURE_AI_STUDIO_DEPLOYMENTS: "mistral-large=M:swedencentral",
      AZURE_OPENAI_KEY_MISTRAL_LARGE: "k",
      PATH: "/usr/bin",
    });
    assert.deepEqual(warnings, []);
  });
});

describe("readConfig: the Go proxy's newer variables", () => {
  it("has the Go proxy's defaults, the Responses version following AZURE_OPENAI_APIVERSION", () => {
    const config = readConfig({ AZURE_OPENAI_APIVERSION: "2025-03-01-preview" });
    assert.deepEqual(config.responsesApiVersion, {
      apiStyle: "dated",
      apiVersion: "2025-03-01-preview",
    });
    assert.deepEqual(config.modelsApiVersion, { apiStyle: "dated", apiVersion: "2024-10-21" });
    assert.equal(config.anthropicVersion, "2023-06-01");
    assert.equal(config.studioDeployments.size, 0);
  });

  it("reads the Responses, models and Anthropic versions", () => {
    const config = readConfig({
      AZURE_OPENAI_RESPONSES_APIVERSION: "preview",
      AZURE_OPENAI_MODELS_APIVERSION: "2024-06-01",
      ANTHROPIC_APIVERSION: "2024-01-01",
    });
    assert.deepEqual(config.responsesApiVersion, { apiStyle: "v1", apiVersion: "preview" });
    assert.equal(config.modelsApiVersion.apiVersion, "2024-06-01");
    assert.equal(config.anthropicVersion, "2024-01-01");
  });

  it("reads serverless deployments with their per-model keys, in the Go form or with underscores", () => {
    const { config, warnings } = readEnvironment({
      AZURE_AI_STUDIO_DEPLOYMENTS:
        "mistral-large-2407=Mistral-large2:swedencentral, Llama-3.1-405B=Meta-Llama-3-1-405B-Instruct:NorthCentralUS,phi-4=Phi-4:eastus",
      "AZURE_OPENAI_KEY_MISTRAL-LARGE-2407": "k-mistral",
      AZURE_OPENAI_KEY_LLAMA_3_1_405B: "k-llama",
      AZURE_OPENAI_KEY_GPT_9: "k-unused",
    });
    assert.deepEqual(config.studioDeployments.get("mistral-large-2407"), {
      model: "mistral-large-2407",
      deployment: "Mistral-large2",
      region: "swedencentral",
      apiKey: "k-mistral",
    });
    assert.deepEqual(config.studioDeployments.get("llama-3.1-405b"), {
      model: "Llama-3.1-405B",
      deployment: "Meta-Llama-3-1-405B-Instruct",
      region: "northcentralus",
      apiKey: "k-llama",
    });
    assert.equal(config.studioDeployments.get("phi-4")?.apiKey, undefined);
    assert.deepEqual(warnings, [
      'AZURE_OPENAI_KEY_GPT_9: no model "gpt_9" in AZURE_AI_STUDIO_DEPLOYMENTS, so this key is not used',
    ]);
    assert.ok(!warnings.join().includes("k-unused"), "a key's value never reaches a warning");
  });

  it("names every bad value of the newer variables at once, each with its variable", () => {
    const found = problems({
      AZURE_OPENAI_RESPONSES_APIVERSION: "latest",
      AZURE_OPENAI_MODELS_APIVERSION: "2024",
      ANTHROPIC_APIVERSION: "2023-06-01-preview",
      AZURE_AI_STUDIO_DEPLOYMENTS: "mistral=Mistral,phi=Phi:east us,a=b:c,A=d:e",
    });
    assert.deepEqual(
      found.map((p) => p.slice(0, p.indexOf(":"))),
      [
        "AZURE_OPENAI_RESPONSES_APIVERSION",
        "AZURE_OPENAI_MODELS_APIVERSION",
        "ANTHROPIC_APIVERSION",
        "AZURE_AI_STUDIO_DEPLOYMENTS",
        "AZURE_AI_STUDIO_DEPLOYMENTS",
        "AZURE_AI_STUDIO_DEPLOYMENTS",
      ],
      found.join("; "),
    );
    assert.match(found[5] ?? "", /model "A" is listed twice/);
  });
});

describe("AZURE_ANTHROPIC_ENDPOINT", () => {
  it("sets where Claude is called, /anthropic/v1 ignored, for the environment's resource", async () => {
    const { topologyFromEnv } = await import("../../src/config/topology.ts");
    const config = readConfig({
      AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com",
      AZURE_ANTHROPIC_ENDPOINT: "https://claude.example.com/anthropic/v1",
    });
    assert.equal(config.azure.anthropicEndpoint, "https://claude.example.com");
    assert.equal(
      topologyFromEnv(config.azure, new Map()).fallback?.anthropicEndpoint,
      "https://claude.example.com",
    );
  });

  it("refuses a value that is not a URL, naming the variable", () => {
    assert.throws(
      () =>
        readConfig({
          AZURE_OPENAI_ENDPOINT: "https://r.openai.azure.com",
          AZURE_ANTHROPIC_ENDPOINT: "not a url",
        }),
      /AZURE_ANTHROPIC_ENDPOINT/,
    );
  });
});
