/**
 * The value of one sample in Prometheus text exposition: the line of `name` whose labels include
 * every one given (other labels may be present). Undefined when there is no such line.
 */
export function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = parseLabels(match[2] ?? "");
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

/** Every sample line of `name`, with its labels. */
export function samples(
  text: string,
  name: string,
): { labels: Record<string, string>; value: number }[] {
  const out = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    out.push({ labels: parseLabels(match[2] ?? ""), value: Number(match[3]) });
  }
  return out;
}

function parseLabels(raw: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of raw.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    labels[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_all, c: string) =>
      c === "n" ? "\n" : c,
    );
  }
  return labels;
}
