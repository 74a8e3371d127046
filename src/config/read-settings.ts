import { SETTINGS, type Setting, type SettingValues } from "./settings.ts";

export type Env = Readonly<Record<string, string | undefined>>;

export interface SettingsReading {
  readonly values: SettingValues;
  /** Every problem of every setting, each starting with the variable's name. */
  readonly problems: readonly string[];
  /** The names that are set (non-empty), for rules that depend on whether a user chose a value. */
  readonly set: ReadonlySet<string>;
}

/**
 * Reads every setting of the table from `env`: trims values, treats empty as unset (except where
 * the table says empty is a mistake), applies defaults, and parses. Never throws.
 */
export function readSettings(env: Env): SettingsReading {
  const problems: string[] = [];
  const set = new Set<string>();
  const values: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    values[key] =
      setting.prefix === undefined
        ? readOne(setting, env, problems, set)
        : readFamily(setting, setting.prefix, env, problems, set);
  }
  return { values: values as SettingValues, problems, set };
}

function readOne(
  setting: Setting<unknown>,
  env: Env,
  problems: string[],
  set: Set<string>,
): unknown {
  for (const name of setting.alias ? [setting.name, setting.alias] : [setting.name]) {
    const raw = env[name]?.trim();
    if (raw === undefined) continue;
    if (raw === "") {
      if (setting.emptyProblem === undefined) continue;
      problems.push(`${name}: ${setting.emptyProblem}`);
      return undefined;
    }
    set.add(name);
    const value = parsed(name, setting.parse(raw), problems);
    // A bad value stands on its default, so rules that combine settings still see sane values.
    return value !== undefined ? value : defaultOf(setting, problems);
  }
  return defaultOf(setting, problems);
}

function defaultOf(setting: Setting<unknown>, problems: string[]): unknown {
  if (setting.default === undefined) return undefined;
  return parsed(setting.name, setting.parse(setting.default), problems);
}

function readFamily(
  setting: Setting<unknown>,
  prefix: string,
  env: Env,
  problems: string[],
  set: Set<string>,
): ReadonlyMap<string, unknown> {
  const found = new Map<string, unknown>();
  for (const [name, value] of Object.entries(env)) {
    const raw = value?.trim();
    if (!name.startsWith(prefix) || name === prefix || raw === undefined || raw === "") continue;
    set.add(name);
    const parsedValue = parsed(name, setting.parse(raw), problems);
    if (parsedValue !== undefined) found.set(name.slice(prefix.length), parsedValue);
  }
  return found;
}

function parsed(
  name: string,
  result: { value: unknown } | { problems: readonly string[] },
  problems: string[],
): unknown {
  if ("value" in result) return result.value;
  for (const problem of result.problems) problems.push(`${name}: ${problem}`);
  return undefined;
}
