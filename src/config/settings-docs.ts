/**
 * The settings table and the configuration file's fields, written out for people: as Markdown
 * for the README (`npm run docs:settings`; a test keeps the README equal to it) and as plain
 * text for `--help`.
 */
import { FILE_FIELDS, type FileField } from "./file-fields.ts";
import { SETTING_GROUPS, SETTINGS, type Setting, type SettingGroup } from "./settings.ts";

const ALL: readonly Setting<unknown>[] = Object.values(SETTINGS);

const displayName = (s: Setting<unknown>) =>
  s.alias ? `\`${s.name}\` or \`${s.alias}\`` : `\`${s.name}\``;

const displayDefault = (s: Setting<unknown>) =>
  s.defaultText ?? (s.default === undefined ? "—" : `\`${s.default}\``);

const cell = (text: string) => text.replaceAll("|", "\\|");

/** The README's configuration tables: settings by group, then the configuration file's fields. */
export function settingsMarkdown(): string {
  const lines: string[] = [];
  for (const [group, title] of Object.entries(SETTING_GROUPS) as [SettingGroup, string][]) {
    lines.push(`#### ${title}`, "", "| Variable | Default | Meaning |", "| --- | --- | --- |");
    for (const s of ALL.filter((s) => s.group === group)) {
      lines.push(`| ${displayName(s)} | ${cell(displayDefault(s))} | ${cell(s.doc)} |`);
    }
    lines.push("");
  }
  lines.push(
    "#### The configuration file",
    "",
    "| Field | Default | Meaning |",
    "| --- | --- | --- |",
  );
  for (const [parent, fields] of Object.entries(FILE_FIELDS)) {
    for (const [field, spec] of Object.entries(fields) as [string, FileField][]) {
      const fallback = spec.default === undefined ? "—" : `\`${spec.default}\``;
      lines.push(`| \`${parent}.${field}\` | ${fallback} | ${cell(spec.doc)} |`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Code spans and emphasis are for Markdown; the terminal gets the words. */
const plain = (text: string) => text.replaceAll("`", "");

/** The settings part of `--help`, grouped, one setting per paragraph. */
export function settingsHelp(): string {
  const lines: string[] = [];
  for (const [group, title] of Object.entries(SETTING_GROUPS) as [SettingGroup, string][]) {
    lines.push(`${title}:`);
    for (const s of ALL.filter((s) => s.group === group)) {
      const name = s.alias ? `${s.name} (or ${s.alias})` : s.name;
      lines.push(`  ${name}   [default: ${plain(displayDefault(s))}]`);
      lines.push(...wrap(plain(s.doc), 76).map((line) => `      ${line}`));
    }
    lines.push("");
  }
  return lines.join("\n");
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}
