/**
 * Microsoft Entra ID settings: how the proxy proves itself to Azure when keys are disabled.
 * Read from the environment (AZURE_OPENAI_AUTH, AZURE_OPENAI_ENTRA_CREDENTIAL,
 * AZURE_OPENAI_ENTRA_SCOPE) and, per resource, from the configuration file (`auth`, `credential`,
 * `scope`).
 */

/** The `@azure/identity` credentials a user can pick by name. */
export const ENTRA_CREDENTIALS = [
  "default",
  "managed-identity",
  "workload-identity",
  "client-secret",
  "cli",
] as const;
export type EntraCredentialKind = (typeof ENTRA_CREDENTIALS)[number];

export const AUTH_KINDS = ["key", "entra"] as const;
export type AuthKind = (typeof AUTH_KINDS)[number];

/** One resource's Entra ID credential and the scope its tokens are asked for. */
export interface EntraAuth {
  readonly credential: EntraCredentialKind;
  readonly scope: string;
}

/** The environment's Entra settings; `scope` undefined means "the usual one for the endpoint". */
export interface EntraSettings {
  readonly auth: AuthKind;
  readonly credential: EntraCredentialKind;
  readonly scope: string | undefined;
}

export const COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default";
/** Foundry (`*.services.ai.azure.com`, Claude's Anthropic route) wants tokens for this audience. */
export const AZURE_AI_SCOPE = "https://ai.azure.com/.default";

/** The scope a token for `endpoint` is asked for unless one is configured. */
export function defaultEntraScope(endpoint: string): string {
  const host = new URL(endpoint).hostname.toLowerCase();
  return host.endsWith(".services.ai.azure.com") ? AZURE_AI_SCOPE : COGNITIVE_SERVICES_SCOPE;
}

/** The Entra settings of the environment; pushes a problem naming the variable for a bad value. */
export function readEntraSettings(
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): EntraSettings {
  const value = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  const auth = oneOf("AZURE_OPENAI_AUTH", value("AZURE_OPENAI_AUTH"), AUTH_KINDS, "key", problems);
  const credential = oneOf(
    "AZURE_OPENAI_ENTRA_CREDENTIAL",
    value("AZURE_OPENAI_ENTRA_CREDENTIAL"),
    ENTRA_CREDENTIALS,
    "default",
    problems,
  );
  const scope = value("AZURE_OPENAI_ENTRA_SCOPE");
  if (scope !== undefined) checkScope("AZURE_OPENAI_ENTRA_SCOPE", scope, problems);
  if (auth === "entra") {
    const key = value("AZURE_OPENAI_API_KEY") ? "AZURE_OPENAI_API_KEY" : "AZURE_OPENAI_TOKEN";
    if (value(key) !== undefined) {
      problems.push(`${key}: not used with AZURE_OPENAI_AUTH=entra (remove one of the two)`);
    }
    if (value("AZURE_OPENAI_PROXY_MODE")?.toLowerCase() === "openai") {
      problems.push("AZURE_OPENAI_AUTH: entra is for Azure; openai mode forwards the client's key");
    }
  }
  return { auth, credential, scope };
}

/**
 * A resource's `auth`, `credential` and `scope` fields from the configuration file, defaulting to
 * the environment's settings. Returns the Entra auth, or undefined for key auth.
 */
export function parseResourceEntra(
  path: string,
  raw: { auth?: unknown; credential?: unknown; scope?: unknown; apiKey?: unknown },
  endpoint: string | undefined,
  defaults: EntraSettings,
  problems: string[],
): EntraAuth | undefined {
  const hasKey = raw.apiKey !== undefined && raw.apiKey !== "";
  // A resource that names its key uses it, unless it says otherwise.
  const fallbackAuth = hasKey ? "key" : defaults.auth;
  const auth = oneOf(`${path}.auth`, optionalString(raw.auth), AUTH_KINDS, fallbackAuth, problems);
  if (auth === "key") {
    for (const field of ["credential", "scope"] as const) {
      if (raw[field] !== undefined) problems.push(`${path}.${field}: only used with auth: entra`);
    }
    return undefined;
  }
  if (hasKey) problems.push(`${path}.apiKey: not used with auth: entra (remove one of the two)`);
  const credential = oneOf(
    `${path}.credential`,
    optionalString(raw.credential),
    ENTRA_CREDENTIALS,
    defaults.credential,
    problems,
  );
  const configured = optionalString(raw.scope) ?? defaults.scope;
  if (configured !== undefined) checkScope(`${path}.scope`, configured, problems);
  if (endpoint === undefined) return undefined;
  return { credential, scope: configured ?? defaultEntraScope(endpoint) };
}

/** The environment resource's Entra auth, or undefined for key auth. */
export function envEntraAuth(settings: EntraSettings, endpoint: string): EntraAuth | undefined {
  if (settings.auth !== "entra") return undefined;
  return { credential: settings.credential, scope: settings.scope ?? defaultEntraScope(endpoint) };
}

function optionalString(raw: unknown): string | undefined {
  return raw === undefined || raw === null || raw === "" ? undefined : String(raw);
}

function oneOf<T extends string>(
  name: string,
  raw: string | undefined,
  allowed: readonly T[],
  fallback: T,
  problems: string[],
): T {
  if (raw === undefined) return fallback;
  const lower = raw.toLowerCase();
  if ((allowed as readonly string[]).includes(lower)) return lower as T;
  problems.push(`${name}: must be one of ${allowed.join(", ")}, got "${raw}"`);
  return fallback;
}

/** An Entra scope is an absolute URI, usually the resource followed by `/.default`. */
function checkScope(name: string, scope: string, problems: string[]): void {
  if (!URL.canParse(scope) || /\s/.test(scope)) {
    problems.push(
      `${name}: "${scope}" is not a scope (e.g. ${COGNITIVE_SERVICES_SCOPE} or ${AZURE_AI_SCOPE})`,
    );
  }
}
