import { SETTINGS, type Setting } from "./settings.ts";

/** Variables users mistype: anything that looks like one of ours (any case). */
const OURS = /^(AZURE_OPENAI_|AZURE_AI_STUDIO_|ANTHROPIC_APIVERSION)/i;

const ALL: readonly Setting<unknown>[] = Object.values(SETTINGS);
const KNOWN = ALL.flatMap((s) => (s.prefix !== undefined ? [] : [s.name, s.alias ?? []].flat()));
const FAMILIES = ALL.flatMap((s) => (s.prefix !== undefined ? [s.prefix] : []));

/**
 * One warning per variable that looks like a setting but is none (a typo would otherwise be
 * ignored silently), naming the closest known name.
 */
export function unknownVariableWarnings(names: Iterable<string>): string[] {
  const warnings: string[] = [];
  for (const name of names) {
    if (!OURS.test(name) || KNOWN.includes(name)) continue;
    if (FAMILIES.some((prefix) => name.startsWith(prefix) && name.length > prefix.length)) continue;
    warnings.push(
      `${name}: not a setting of azure-oai-proxy (ignored); did you mean ${closest(name)}?`,
    );
  }
  return warnings;
}

/** The known name with the fewest edits from `name`, case-insensitively. */
function closest(name: string): string {
  let best = KNOWN[0] ?? "";
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const known of [...KNOWN, ...FAMILIES.map((p) => `${p}<MODEL>`)]) {
    const d = editDistance(name.toUpperCase(), known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
