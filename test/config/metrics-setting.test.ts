import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, readConfig } from "../../src/config/env.ts";

const ENDPOINT = { AZURE_OPENAI_ENDPOINT: "https://my-resource.openai.azure.com" };
const read = (extra: Record<string, string>) => readConfig({ ...ENDPOINT, ...extra });

/** The problems readConfig reports for an environment. */
function problemsOf(extra: Record<string, string>): readonly string[] {
  try {
    read(extra);
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
}

describe("AZURE_OPENAI_PROXY_METRICS", () => {
  it("serves /metrics on the main port unless told otherwise", () => {
    assert.deepEqual(readConfig(ENDPOINT).metrics, { kind: "main" });
    for (const raw of ["on", "ON", "true", "1"]) {
      assert.deepEqual(read({ AZURE_OPENAI_PROXY_METRICS: raw }).metrics, { kind: "main" });
    }
  });

  it("turns metrics off", () => {
    for (const raw of ["off", "false", "0", "no"]) {
      assert.deepEqual(read({ AZURE_OPENAI_PROXY_METRICS: raw }).metrics, { kind: "off" });
    }
  });

  it("takes host:port for a separate listener", () => {
    const metrics = (raw: string) => read({ AZURE_OPENAI_PROXY_METRICS: raw }).metrics;
    assert.deepEqual(metrics("127.0.0.1:9464"), {
      kind: "listener",
      host: "127.0.0.1",
      port: 9464,
    });
    assert.deepEqual(metrics(":9464"), { kind: "listener", host: "0.0.0.0", port: 9464 });
    assert.deepEqual(metrics("[::1]:9464"), { kind: "listener", host: "::1", port: 9464 });
  });

  it("names the variable and the accepted forms when the value is wrong", () => {
    for (const raw of ["maybe", "127.0.0.1", "localhost:99999", "a:b:9464"]) {
      const problems = problemsOf({ AZURE_OPENAI_PROXY_METRICS: raw });
      assert.equal(problems.length, 1, raw);
      assert.match(problems[0] ?? "", /^AZURE_OPENAI_PROXY_METRICS: must be on, off or host:port/);
    }
  });
});

describe("AZURE_OPENAI_PROXY_ADMIN_KEY", () => {
  it("is optional", () => {
    assert.equal(readConfig(ENDPOINT).adminKey, undefined);
  });

  it("refuses a key short enough to guess, without repeating it", () => {
    const problems = problemsOf({ AZURE_OPENAI_PROXY_ADMIN_KEY: "hunter2" });
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? "",
      /^AZURE_OPENAI_PROXY_ADMIN_KEY: must be at least 16 characters/,
    );
    assert.ok(!problems[0]?.includes("hunter2"));
  });

  it("keeps a long key as given", () => {
    const key = "0123456789abcdef0123";
    assert.equal(read({ AZURE_OPENAI_PROXY_ADMIN_KEY: ` ${key} ` }).adminKey, key);
  });
});
