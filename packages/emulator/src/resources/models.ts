/** Resolving the deployment a resource request names in its body's `model`. */
import { operationsOf, servesResponses } from "../catalog.ts";
import { azureErrors } from "../errors.ts";
import type { EmulatorDeployment } from "../types.ts";
import type { ResourceEnv } from "./context.ts";
import { type Fields, refuse } from "./fields.ts";

/**
 * The chat-capable deployment named by `model` (or the given name). Unknown names get the 404
 * DeploymentNotFound of inference routes (`notFound`: responses) or a 400 about `model`
 * (`badRequest`: assistants and runs, as Azure answers there).
 */
export function chatDeployment(
  fields: Fields,
  env: ResourceEnv,
  operation: string,
  unknown: "notFound" | "badRequest",
  name: string | undefined = fields.string("model"),
): EmulatorDeployment {
  if (name === undefined || name === "") {
    refuse(
      azureErrors.badRequest("The 'model' parameter is required: set it to the deployment name."),
    );
  }
  const deployment = env.deployments.get(name);
  if (deployment === undefined) {
    refuse(
      unknown === "notFound" ? azureErrors.deploymentNotFound() : azureErrors.modelNotFound(name),
    );
  }
  const serves =
    operation === "responses"
      ? servesResponses(deployment.model)
      : operationsOf(deployment.model).includes("chat/completions");
  if (!serves) {
    refuse(azureErrors.operationNotSupported(operation, deployment.model));
  }
  return deployment;
}
