import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseFlags } from "../../src/config/cli-flags.ts";
import { SETTINGS } from "../../src/config/settings.ts";
import { usage } from "../../src/config/usage.ts";

describe("parseFlags", () => {
  it("takes --config FILE and --config=FILE as AZURE_OPENAI_PROXY_CONFIG", () => {
    assert.deepEqual(parseFlags(["--config", "a.yaml"]), {
      kind: "run",
      env: { AZURE_OPENAI_PROXY_CONFIG: "a.yaml" },
    });
    assert.deepEqual(parseFlags(["--config=b.yaml"]), {
      kind: "run",
      env: { AZURE_OPENAI_PROXY_CONFIG: "b.yaml" },
    });
    assert.deepEqual(parseFlags([]), { kind: "run", env: {} });
  });

  it("answers --help, -h, --version and -v", () => {
    assert.equal(parseFlags(["--help"]).kind, "help");
    assert.equal(parseFlags(["--config", "x", "-h"]).kind, "help");
    assert.equal(parseFlags(["--version"]).kind, "version");
    assert.equal(parseFlags(["-v"]).kind, "version");
  });

  it("refuses unknown flags and a --config without a file, naming them", () => {
    const typo = parseFlags(["--conifg", "a.yaml"]);
    assert.equal(typo.kind, "error");
    assert.match(typo.kind === "error" ? typo.message : "", /unknown flag "--conifg"/);
    const bare = parseFlags(["--config"]);
    assert.match(bare.kind === "error" ? bare.message : "", /--config needs a file/);
    assert.equal(parseFlags(["serve"]).kind, "error");
  });
});

describe("usage", () => {
  it("lists the flags and every setting of the table", () => {
    const text = usage();
    for (const flag of ["--config FILE", "--help", "--version"]) assert.ok(text.includes(flag));
    for (const setting of Object.values(SETTINGS))
      assert.ok(text.includes(setting.name), setting.name);
  });
});
