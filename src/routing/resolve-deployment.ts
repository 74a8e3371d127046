import type { DeploymentIndex } from "../azure/deployment-index.ts";
import { undatedName } from "./dated-name.ts";
import defaultNames from "./model-names.json" with { type: "json" };

const EXACT = new Map(
  Object.entries(defaultNames.exact).map(([k, v]) => [k.toLowerCase(), v] as const),
);
const PREFIXES = Object.entries(defaultNames.prefixes).map(
  ([k, v]) => [k.toLowerCase(), v] as const,
);

/** The built-in table's Azure name for an OpenAI model name, if it has one. */
export function defaultDeploymentName(model: string): string | undefined {
  const key = model.toLowerCase();
  const exact = EXACT.get(key);
  if (exact !== undefined) return exact;
  for (const [prefix, replacement] of PREFIXES) {
    if (key.startsWith(prefix)) return replacement + model.slice(prefix.length);
  }
  return undefined;
}

/** The model names the built-in table knows, for listing. */
export function defaultModelNames(): string[] {
  return Object.keys(defaultNames.exact);
}

/**
 * Maps the model name a client sent to the Azure deployment to call:
 * the configured mapper, then the built-in table, then a deployment known to serve that model,
 * then the name itself. When the resource's deployments are known, a candidate that is not one of
 * them gives way to one that is (so a deployment named like the OpenAI model still wins over the
 * table's guess). A dated name (`gpt-4o-2024-08-06`) that nothing knows falls back to its undated
 * name (`gpt-4o`), as the Go proxy did.
 */
export function resolveDeployment(
  model: string,
  mapper: ReadonlyMap<string, string>,
  known?: DeploymentIndex,
): string {
  const key = model.toLowerCase();
  const mapped = mapper.get(key);
  if (mapped !== undefined) return mapped;
  const fromTable = defaultDeploymentName(model);
  const undated = undatedName(key);
  if (known === undefined) {
    return fromTable ?? (undated === undefined ? undefined : mapper.get(undated)) ?? model;
  }
  if (fromTable !== undefined) {
    const id = known.byId.get(fromTable.toLowerCase());
    if (id !== undefined) return id;
  }
  const own = known.byId.get(key);
  if (own !== undefined) return own;
  const serving =
    known.byModel.get(key) ??
    (fromTable === undefined ? undefined : known.byModel.get(fromTable.toLowerCase()));
  if (serving !== undefined) return serving;
  if (undated !== undefined) {
    const byUndated = mapper.get(undated) ?? known.byId.get(undated) ?? known.byModel.get(undated);
    if (byUndated !== undefined) return byUndated;
  }
  return fromTable ?? model;
}
