import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAdminKey } from "../../src/config/admin-key.ts";
import { parseMetricsSetting } from "../../src/config/metrics-setting.ts";

describe("AZURE_OPENAI_PROXY_METRICS", () => {
  it("serves /metrics on the main port unless told otherwise", () => {
    for (const raw of [undefined, "", "on", "ON", "true", "1"]) {
      assert.deepEqual(parseMetricsSetting(raw, []), { kind: "main" });
    }
  });

  it("turns metrics off", () => {
    for (const raw of ["off", "false", "0", "no"]) {
      assert.deepEqual(parseMetricsSetting(raw, []), { kind: "off" });
    }
  });

  it("takes host:port for a separate listener", () => {
    assert.deepEqual(parseMetricsSetting("127.0.0.1:9464", []), {
      kind: "listener",
      host: "127.0.0.1",
      port: 9464,
    });
    assert.deepEqual(parseMetricsSetting(":9464", []), {
      kind: "listener",
      host: "0.0.0.0",
      port: 9464,
    });
    assert.deepEqual(parseMetricsSetting("[::1]:9464", []), {
      kind: "listener",
      host: "::1",
      port: 9464,
    });
  });

  it("names the variable and the accepted forms when the value is wrong", () => {
    for (const raw of ["maybe", "127.0.0.1", "localhost:99999", "a:b:9464"]) {
      const problems: string[] = [];
      parseMetricsSetting(raw, problems);
      assert.equal(problems.length, 1, raw);
      assert.match(problems[0] ?? "", /^AZURE_OPENAI_PROXY_METRICS: must be on, off or host:port/);
    }
  });
});

describe("AZURE_OPENAI_PROXY_ADMIN_KEY", () => {
  it("is optional", () => {
    assert.equal(parseAdminKey(undefined, []), undefined);
    assert.equal(parseAdminKey("  ", []), undefined);
  });

  it("refuses a key short enough to guess, without repeating it", () => {
    const problems: string[] = [];
    parseAdminKey("hunter2", problems);
    assert.equal(problems.length, 1);
    assert.match(
      problems[0] ?? "",
      /^AZURE_OPENAI_PROXY_ADMIN_KEY: must be at least 16 characters/,
    );
    assert.ok(!problems[0]?.includes("hunter2"));
  });

  it("keeps a long key as given", () => {
    const problems: string[] = [];
    assert.equal(parseAdminKey(" 0123456789abcdef0123 ", problems), "0123456789abcdef0123");
    assert.deepEqual(problems, []);
  });
});
