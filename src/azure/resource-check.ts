import type { Agent } from "undici";
import { DEPLOYMENTS_LIST_API_VERSION } from "../config/api-versions.ts";
import type { ResourceConfig } from "../config/topology.ts";
import { getAzureJson } from "./get-json.ts";
import type { UpstreamCredential } from "./request.ts";

/**
 * One look at a resource with the proxy's own credential, at start-up, so a wrong endpoint or a
 * refused key shows in the log at once instead of in the first user's error. Answers the
 * warning to log, naming the cause and the fix, or undefined when the resource answered.
 */
export async function checkResource(
  agent: Agent,
  resource: ResourceConfig,
  credential: UpstreamCredential,
  timeoutMs: number,
): Promise<string | undefined> {
  const where = `resource "${resource.name}" (${resource.endpoint})`;
  const url = `${resource.endpoint}/openai/deployments?api-version=${DEPLOYMENTS_LIST_API_VERSION}`;
  let status: number;
  try {
    ({ status } = await getAzureJson(agent, url, credential, timeoutMs));
  } catch (error) {
    const failure = error as { code?: string; cause?: { code?: string }; name?: string };
    const cause = failure.code ?? failure.cause?.code ?? failure.name;
    return `${where} cannot be reached (${cause}): check the endpoint's host name and that this machine can reach it (DNS, firewall, private endpoint)`;
  }
  const how = credential.header === "api-key" ? "its API key" : "its Microsoft Entra ID token";
  if (status === 401) {
    return `${where} refused ${how} (401): check the key (Azure portal → the resource → Keys and Endpoint) or, with Entra ID, the credential`;
  }
  if (status === 403) {
    return `${where} refused ${how} (403): with Entra ID, grant the identity the "Cognitive Services OpenAI User" role on the resource; with a key, check that key access is enabled`;
  }
  if (status === 404) {
    return `${where} answered 404 to the deployment listing: check that the endpoint is the resource's own (https://NAME.openai.azure.com), without a path; if it is, the resource does not list deployments and model names are used as deployment names`;
  }
  return undefined;
}
