import type { Env } from "./env.ts";

/** A legacy serverless (Azure AI Studio "models as a service") endpoint for one model. */
export interface ServerlessDeployment {
  /** The model name clients send, lower-cased. */
  readonly model: string;
  /** `https://{name}.{region}.models.ai.azure.com`; called with OpenAI-shaped paths. */
  readonly endpoint: string;
  /** Sent as `Authorization: Bearer`; undefined when no key variable is set (the client's is used). */
  readonly apiKey: string | undefined;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const REGION = /^[a-z0-9]+$/;

/** The key variables the Go proxy read (`AZURE_OPENAI_KEY_MISTRAL-LARGE-2407`), and the shell-safe form. */
export function serverlessKeyVariables(model: string): string[] {
  const upper = model.toUpperCase();
  const safe = upper.replace(/[^A-Z0-9]/g, "_");
  return safe === upper
    ? [`AZURE_OPENAI_KEY_${upper}`]
    : [`AZURE_OPENAI_KEY_${upper}`, `AZURE_OPENAI_KEY_${safe}`];
}

/**
 * Reads `AZURE_AI_STUDIO_DEPLOYMENTS=model=Name:region,...` as the Go proxy did (or
 * `model=https://host` for an endpoint given whole), with each model's key from
 * `AZURE_OPENAI_KEY_<MODEL>` (upper case; non-alphanumerics as written or as `_`).
 * Pushes a problem naming the variable for each entry it cannot read.
 */
export function parseServerlessDeployments(
  value: string | undefined,
  env: Env,
  problems: string[],
): ServerlessDeployment[] {
  if (value === undefined || value.trim() === "") return [];
  const out: ServerlessDeployment[] = [];
  for (const entry of value.split(",")) {
    const trimmed = entry.trim();
    if (trimmed === "") continue;
    const [model, target, extra] = trimmed.split("=");
    if (model && extra === undefined && target !== undefined && /^https?:\/\//.test(target)) {
      // An endpoint given whole (a private or test endpoint) instead of Name:region.
      out.push({
        model: model.trim().toLowerCase(),
        endpoint: target.replace(/\/+$/, ""),
        apiKey: keyOf(model, env),
      });
      continue;
    }
    const [name, region, rest] = (target ?? "").split(":");
    if (
      extra !== undefined ||
      rest !== undefined ||
      !model ||
      name === undefined ||
      !NAME.test(name) ||
      region === undefined ||
      !REGION.test(region)
    ) {
      problems.push(
        `AZURE_AI_STUDIO_DEPLOYMENTS: "${trimmed}" is not model=Name:region (e.g. mistral-large=Mistral-large2:swedencentral)`,
      );
      continue;
    }
    out.push({
      model: model.trim().toLowerCase(),
      endpoint: `https://${name.toLowerCase()}.${region}.models.ai.azure.com`,
      apiKey: keyOf(model, env),
    });
  }
  return out;
}

function keyOf(model: string, env: Env): string | undefined {
  const keyVariable = serverlessKeyVariables(model).find((v) => env[v]?.trim());
  return keyVariable === undefined ? undefined : env[keyVariable]?.trim();
}
