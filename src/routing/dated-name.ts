const DATE_SUFFIX = /-(\d{4}-\d{2}-\d{2}|\d{8})$/;

/**
 * A model name without its date (`gpt-4o-2024-08-06` → `gpt-4o`,
 * `claude-haiku-4-5-20251001` → `claude-haiku-4-5`), or undefined if it has none.
 */
export function undatedName(name: string): string | undefined {
  const undated = name.replace(DATE_SUFFIX, "");
  return undated === name || undated === "" ? undefined : undated;
}
