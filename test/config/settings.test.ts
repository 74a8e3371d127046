import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { FILE_FIELDS } from "../../src/config/file-fields.ts";
import { SETTINGS, type Setting } from "../../src/config/settings.ts";

const ALL: readonly Setting<unknown>[] = Object.values(SETTINGS);

function sourceFiles(dir: URL): URL[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(new URL(`${entry.name}/`, dir))
      : entry.name.endsWith(".ts")
        ? [new URL(entry.name, dir)]
        : [],
  );
}

describe("the settings table", () => {
  it("parses every default it documents", () => {
    for (const setting of ALL) {
      if (setting.default === undefined) continue;
      assert.ok("value" in setting.parse(setting.default), `${setting.name}'s default`);
    }
  });

  it("names each variable once, each with a one-line doc", () => {
    const names = ALL.flatMap((s) => [s.name, s.alias ?? []].flat());
    assert.equal(new Set(names).size, names.length);
    for (const setting of ALL) {
      assert.ok(setting.doc.length > 10 && !setting.doc.includes("\n"), setting.name);
    }
  });

  it("has a row for every environment variable the proxy's source names", () => {
    const known = ALL.flatMap((s) => [s.prefix ?? s.name, s.alias ?? []].flat());
    const named = new Set<string>();
    for (const file of sourceFiles(new URL("../../src/", import.meta.url))) {
      if (file.pathname.includes("/emulator/")) continue; // the emulator has its own flags
      for (const [name] of readFileSync(file, "utf8").matchAll(
        /\b(?:AZURE_OPENAI|AZURE_AI_STUDIO|ANTHROPIC)_[A-Z_]*[A-Z]\b/g,
      )) {
        named.add(name);
      }
    }
    const missing = [...named].filter((n) => !known.some((k) => n === k || n.startsWith(k)));
    assert.deepEqual(missing, []);
  });

  it("documents every field of the configuration file", () => {
    const fields = Object.entries(FILE_FIELDS).flatMap(([parent, f]) =>
      Object.entries(f).map(([name, spec]) => [`${parent}.${name}`, spec.doc]),
    );
    assert.equal(fields.length, 25); // 14, the four of model families, the seven of clients
    for (const [path, doc] of fields) assert.ok((doc ?? "").length > 10, path);
  });
});
