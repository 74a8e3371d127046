import { AZURE_AI_SCOPE, COGNITIVE_SERVICES_SCOPE } from "../config/entra.ts";
import type { ResourceConfig } from "../config/topology.ts";

const RESOURCE_HOST = /^([a-z0-9-]+)\.(openai\.azure\.com|cognitiveservices\.azure\.com)$/i;

/**
 * Where a resource serves Claude: Anthropic's Messages API lives on the Foundry host of the same
 * resource (`https://{resource}.services.ai.azure.com/anthropic/v1/messages`), not on its
 * `*.openai.azure.com` or `*.cognitiveservices.azure.com` host. Any other endpoint (a Foundry host
 * already, a private link, the emulator) is used as it is.
 */
export function anthropicEndpoint(endpoint: string): string {
  const url = new URL(endpoint);
  const azure = RESOURCE_HOST.exec(url.hostname);
  if (azure !== null) url.hostname = `${azure[1]}.services.ai.azure.com`;
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.origin}${path}`;
}

/** The Messages URL under an Anthropic endpoint. */
export function anthropicMessagesUrl(endpoint: string): string {
  return `${anthropicEndpoint(endpoint)}/anthropic/v1/messages`;
}

/**
 * The resource as Claude's route reaches it: Claude on Foundry takes Entra ID tokens for
 * `https://ai.azure.com/.default`, not Azure OpenAI's scope; a scope set on purpose is kept.
 */
export function forClaude(resource: ResourceConfig): ResourceConfig {
  const entra = resource.entra;
  if (entra === undefined || entra.scope !== COGNITIVE_SERVICES_SCOPE) return resource;
  return { ...resource, entra: { ...entra, scope: AZURE_AI_SCOPE } };
}
