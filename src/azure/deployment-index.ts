/** A deployment known to exist on the resource, with the model it serves. */
export interface KnownDeployment {
  readonly id: string;
  readonly model: string;
}

/** Lookups over a resource's deployments, built once per listing, not per request. */
export interface DeploymentIndex {
  readonly deployments: readonly KnownDeployment[];
  /** lower-cased deployment id -> deployment id */
  readonly byId: ReadonlyMap<string, string>;
  /** lower-cased model name -> id of the first deployment serving it */
  readonly byModel: ReadonlyMap<string, string>;
}

export function indexDeployments(deployments: readonly KnownDeployment[]): DeploymentIndex {
  const byId = new Map<string, string>();
  const byModel = new Map<string, string>();
  for (const d of deployments) {
    byId.set(d.id.toLowerCase(), d.id);
    const model = d.model.toLowerCase();
    if (!byModel.has(model)) byModel.set(model, d.id);
  }
  return { deployments, byId, byModel };
}
