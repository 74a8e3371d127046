import { settingsMarkdown } from "./settings-docs.ts";

export const SETTINGS_START =
  "<!-- settings:start (generated from src/config/settings.ts by `npm run docs:settings`; do not edit) -->";
export const SETTINGS_END = "<!-- settings:end -->";

/** The README's generated section (between the markers), or undefined when it has none. */
export function settingsSectionOf(readme: string): string | undefined {
  const start = readme.indexOf(SETTINGS_START);
  const end = readme.indexOf(SETTINGS_END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + SETTINGS_START.length, end);
}

/** The README with its generated section made from the table. */
export function replaceSettingsSection(readme: string): string {
  const start = readme.indexOf(SETTINGS_START);
  const end = readme.indexOf(SETTINGS_END);
  if (start < 0 || end < start) {
    throw new Error(`README.md has no ${SETTINGS_START} … ${SETTINGS_END} section`);
  }
  return `${readme.slice(0, start + SETTINGS_START.length)}\n\n${settingsMarkdown()}\n${readme.slice(end)}`;
}
