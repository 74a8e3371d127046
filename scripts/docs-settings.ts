/**
 * `npm run docs:settings`: writes the README's configuration tables from the settings table
 * (src/config/settings.ts) and the configuration file's fields (src/config/file-fields.ts),
 * between the markers. test/config/readme-settings.test.ts fails while they differ.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { replaceSettingsSection } from "../src/config/readme-section.ts";

const readme = new URL("../README.md", import.meta.url);
const before = readFileSync(readme, "utf8");
const after = replaceSettingsSection(before);
if (after === before) process.stdout.write("README.md: configuration tables already up to date\n");
else {
  writeFileSync(readme, after);
  process.stdout.write("README.md: configuration tables rewritten from the settings table\n");
}
