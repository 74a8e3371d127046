import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { settingsSectionOf } from "../../src/config/readme-section.ts";
import { settingsMarkdown } from "../../src/config/settings-docs.ts";

describe("README.md", () => {
  it("has the configuration tables of the settings table (npm run docs:settings rewrites them)", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const section = settingsSectionOf(readme);
    assert.ok(section !== undefined, "README.md has the settings:start/settings:end markers");
    assert.equal(
      section.trim(),
      settingsMarkdown().trim(),
      "README.md's configuration tables differ from src/config/settings.ts: run npm run docs:settings",
    );
  });
});
