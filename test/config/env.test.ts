import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { DEFAULT_API_VERSION } from "../../src/azure/api-versions.ts";
import { ConfigError, readConfig, withDotEnv } from "../../src/config/env.ts";

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
