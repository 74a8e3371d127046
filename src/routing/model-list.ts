import type { DeploymentListing } from "../azure/deployments.ts";
import type { ModelObject } from "../openai/models.ts";
import { modelProvider } from "./model-family.ts";
import { defaultModelNames, resolveDeployment } from "./resolve-deployment.ts";

/**
 * The names a client can actually send. With the resource's deployments known: every deployment,
 * and every model name (mapped, from the built-in table, or a deployment's model) that resolves to
 * one of them. Without: the configured mapping's model names.
 */
export function listModels(
  listing: DeploymentListing | null,
  mapper: ReadonlyMap<string, string>,
): ModelObject[] {
  const out: ModelObject[] = [];
  const seen = new Set<string>();
  const add = (id: string, created: number, ownedBy: string) => {
    const key = id.toLowerCase();
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ id, object: "model", created, owned_by: ownedBy });
  };
  if (listing === null) {
    for (const model of mapper.keys()) add(model, 0, "azure-openai");
    return out;
  }
  const created = new Map(listing.deployments.map((d) => [d.id, d.createdAt]));
  for (const d of listing.deployments) add(d.id, d.createdAt, modelProvider(d.model));
  const candidates = [
    ...mapper.keys(),
    ...listing.deployments.map((d) => d.model),
    ...defaultModelNames(),
  ];
  for (const name of candidates) {
    const deployment = resolveDeployment(name, mapper, listing.index);
    const id = listing.index.byId.get(deployment.toLowerCase());
    if (id !== undefined) add(name, created.get(id) ?? 0, modelProvider(name));
  }
  return out;
}
