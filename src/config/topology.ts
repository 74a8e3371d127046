import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { API_VERSION_HELP, DEFAULT_API_VERSION, parseApiVersion } from "./api-versions.ts";
import { type ClientConfig, parseClients } from "./clients.ts";
import type { AzureApiStyle, AzureConfig, StudioDeployment } from "./config.ts";
import { parseAzureEndpoint, parseEndpoint } from "./endpoint.ts";
import { type EntraAuth, type EntraSettings, envEntraAuth, parseResourceEntra } from "./entra.ts";
import {
  isRecord,
  MODEL_FIELDS,
  RESOURCE_FIELDS,
  TARGET_FIELDS,
  unknownKeys,
} from "./file-fields.ts";
import { isSafeModelName } from "./model-name.ts";
import { parseTlsSection, type TlsFiles } from "./tls.ts";

/** How a pool picks among its available targets. */
export const STRATEGIES = ["priority", "round-robin", "least-busy", "latency"] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** One Azure OpenAI resource. */
export interface ResourceConfig {
  readonly name: string;
  /** Origin plus optional base path, no trailing slash. */
  readonly endpoint: string;
  readonly apiStyle: AzureApiStyle;
  /** A dated version, or "preview"/"" in the v1 style. */
  readonly apiVersion: string;
  /** Server-held key; undefined passes the client's key through (unless `entra` is set). */
  readonly apiKey: string | undefined;
  /** Keyless: a Microsoft Entra ID token is sent instead of any key. Absent means key auth. */
  readonly entra?: EntraAuth | undefined;
  /**
   * `serverless`: a legacy `*.models.ai.azure.com` endpoint serving one model at OpenAI-shaped
   * paths with a Bearer key (AZURE_AI_STUDIO_DEPLOYMENTS). Absent: an Azure OpenAI resource.
   */
  readonly kind?: "serverless";
  /** Where the resource serves Claude, when not its derived `*.services.ai.azure.com` host. */
  readonly anthropicEndpoint?: string;
}

/** How a target's chat requests are sent, when the configuration says rather than the model table. */
export const TARGET_APIS = ["chat", "responses", "anthropic", "v1"] as const;
export type TargetApi = (typeof TARGET_APIS)[number];

export interface TargetConfig {
  readonly resource: string;
  readonly deployment: string;
  /** Lower is preferred (priority strategy). */
  readonly priority: number;
  /** Share among equals (priority, round-robin). */
  readonly weight: number;
  /** `api:` of the target (or of its model): overrides the family the model table gives. */
  readonly api?: TargetApi;
}

export interface ModelRouteConfig {
  /** The name clients send, as written in the file. */
  readonly name: string;
  readonly strategy: Strategy;
  readonly targets: readonly TargetConfig[];
}

/** Where requests can go: the part of the configuration a reload replaces. */
export interface Topology {
  readonly resources: ReadonlyMap<string, ResourceConfig>;
  /** Models not listed use the env-style resolution on this resource. */
  readonly fallback: ResourceConfig | undefined;
  /** Lower-cased client model name -> its pool. */
  readonly models: ReadonlyMap<string, ModelRouteConfig>;
  /** Named clients by name (the file's `clients:` section); empty without one. */
  readonly clients: ReadonlyMap<string, ClientConfig>;
  /** "environment" or the file's path. */
  readonly source: string;
  /** The file's `tls:` (AZURE_OPENAI_PROXY_TLS_CERT/_KEY win over it). */
  readonly tls?: TlsFiles | undefined;
}

/** A bad configuration file; each problem names the path of the bad field. */
export class TopologyError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`Invalid configuration in ${source}:\n  - ${problems.join("\n  - ")}`);
    this.name = "TopologyError";
    this.problems = problems;
  }
}

/** The name of the resource AZURE_OPENAI_ENDPOINT describes; a file may refer to it. */
export const ENV_RESOURCE = "default";

/** The one-resource topology of env-only configuration. */
export function topologyFromEnv(
  azure: AzureConfig,
  studio: ReadonlyMap<string, StudioDeployment> = new Map(),
): Topology {
  const resources = new Map<string, ResourceConfig>();
  const env = envResource(azure);
  if (env) resources.set(env.name, env);
  const models = new Map<string, ModelRouteConfig>();
  addServerless(studio, resources, models);
  return { resources, fallback: env, models, clients: new Map(), source: "environment" };
}

/** AZURE_AI_STUDIO_DEPLOYMENTS: one serverless resource and route per model a file does not name. */
function addServerless(
  studio: ReadonlyMap<string, StudioDeployment>,
  resources: Map<string, ResourceConfig>,
  models: Map<string, ModelRouteConfig>,
): void {
  for (const [model, serverless] of studio) {
    if (models.has(model)) continue;
    const resource: ResourceConfig = {
      name: `serverless:${model}`,
      endpoint: `https://${serverless.deployment.toLowerCase()}.${serverless.region}.models.ai.azure.com`,
      apiStyle: "v1",
      apiVersion: "",
      apiKey: serverless.apiKey,
      kind: "serverless",
    };
    resources.set(resource.name, resource);
    models.set(model, {
      name: serverless.model,
      strategy: "priority",
      targets: [
        { resource: resource.name, deployment: serverless.deployment, priority: 0, weight: 1 },
      ],
    });
  }
}

function envResource(azure: AzureConfig): ResourceConfig | undefined {
  if (azure.endpoint === undefined) return undefined;
  return {
    name: ENV_RESOURCE,
    endpoint: azure.endpoint,
    apiStyle: azure.apiStyle,
    apiVersion: azure.apiVersion,
    apiKey: azure.apiKey,
    entra: azure.entra && envEntraAuth(azure.entra, azure.endpoint),
    ...(azure.anthropicEndpoint === undefined
      ? {}
      : { anthropicEndpoint: azure.anthropicEndpoint }),
  };
}

/** What the file is checked against from the rest of the configuration. */
export interface TopologyRules {
  /** Proxy client keys (AZURE_OPENAI_PROXY_API_KEYS): when any, every resource needs an apiKey. */
  readonly clientKeys: readonly string[];
}

const NO_RULES: TopologyRules = { clientKeys: [] };
/** Environment Entra settings when none are given: key auth, as before Entra existed. */
const KEY_AUTH: EntraSettings = { auth: "key", credential: "default", scope: undefined };

/** Reads and validates a configuration file; throws TopologyError naming every bad field. */
export async function loadTopologyFile(
  path: string,
  azure: AzureConfig,
  env: Readonly<Record<string, string | undefined>>,
  rules: TopologyRules = NO_RULES,
): Promise<Topology> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new TopologyError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  return await parseTopology(text, path, azure, env, rules);
}

/** Validates the YAML text of a configuration file. */
export async function parseTopology(
  text: string,
  source: string,
  azure: AzureConfig,
  env: Readonly<Record<string, string | undefined>>,
  rules: TopologyRules = NO_RULES,
): Promise<Topology> {
  const problems: string[] = [];
  // Loaded on demand: env-only configuration, the common case, never needs a YAML parser.
  const { parse: parseYaml } = await import("yaml");
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new TopologyError(source, [`not valid YAML: ${(error as Error).message}`]);
  }
  // ${VAR} is replaced inside string values after parsing, so a secret's characters can never
  // change the document's structure.
  document = substitute(document, env, problems);
  if (document === null || document === undefined) document = {};
  if (!isRecord(document)) throw new TopologyError(source, ["the file must be a YAML mapping"]);
  for (const key of Object.keys(document)) {
    if (key !== "resources" && key !== "models" && key !== "tls" && key !== "clients") {
      problems.push(`${key}: unknown section (expected resources, models, tls, clients)`);
    }
  }
  const tls = parseTlsSection(document.tls, dirname(source), problems);
  // Clients present proxy keys (named or AZURE_OPENAI_PROXY_API_KEYS), so Azure's are held here.
  const needsKey =
    rules.clientKeys.length > 0 ||
    (isRecord(document.clients) && Object.keys(document.clients).length > 0);

  const resources = new Map<string, ResourceConfig>();
  // Every name the file declares, valid or not: a target naming a bad resource is that
  // resource's problem, reported once, not also an "unknown resource".
  const declared = new Set<string>();
  const fromEnv = envResource(azure);
  const rawResources = document.resources ?? {};
  if (!isRecord(rawResources)) problems.push("resources: must be a mapping of name to resource");
  else {
    for (const [name, raw] of Object.entries(rawResources)) {
      declared.add(name);
      const resource = parseResource(
        `resources.${name}`,
        name,
        raw,
        needsKey,
        azure.entra ?? KEY_AUTH,
        problems,
      );
      if (resource) resources.set(name, resource);
    }
  }
  const fallback = resources.values().next().value ?? fromEnv;
  if (fromEnv && !declared.has(ENV_RESOURCE)) {
    declared.add(ENV_RESOURCE);
    resources.set(ENV_RESOURCE, fromEnv);
    if (needsKey && fromEnv.apiKey === undefined) problems.push(ENV_KEY_NEEDED);
  }

  const models = new Map<string, ModelRouteConfig>();
  const rawModels = document.models ?? {};
  if (!isRecord(rawModels)) problems.push("models: must be a mapping of model name to pool");
  else {
    for (const [name, raw] of Object.entries(rawModels)) {
      const route = parseModel(`models.${name}`, name, raw, declared, problems);
      if (route) {
        if (models.has(name.toLowerCase())) {
          problems.push(`models.${name}: listed twice (model names are case-insensitive)`);
        }
        models.set(name.toLowerCase(), route);
      }
    }
  }
  const clients = parseClients(document.clients, problems);
  if (fallback === undefined && models.size === 0 && declared.size === 0) {
    problems.push("resources: no resource defined (and AZURE_OPENAI_ENDPOINT is not set)");
  }
  if (problems.length > 0) throw new TopologyError(source, problems);
  return { resources, fallback, models, clients, source, tls };
}

function parseResource(
  path: string,
  name: string,
  raw: unknown,
  needsKey: boolean,
  entraDefaults: EntraSettings,
  problems: string[],
): ResourceConfig | undefined {
  if (!isRecord(raw)) {
    problems.push(`${path}: must be a mapping with endpoint (and apiKey, apiVersion)`);
    return undefined;
  }
  unknownKeys(path, raw, RESOURCE_FIELDS, problems);
  const endpoint = requiredEndpoint(`${path}.endpoint`, raw.endpoint, problems);
  if (raw.kind !== undefined && raw.kind !== "serverless") {
    problems.push(`${path}.kind: must be "serverless" when set, got ${JSON.stringify(raw.kind)}`);
  }
  const anthropicEndpoint =
    raw.anthropicEndpoint === undefined
      ? undefined
      : optionalEndpoint(`${path}.anthropicEndpoint`, raw.anthropicEndpoint, problems);
  const apiKey = raw.apiKey === undefined || raw.apiKey === "" ? undefined : String(raw.apiKey);
  const version = raw.apiVersion === undefined ? DEFAULT_API_VERSION : String(raw.apiVersion);
  const parsed = parseApiVersion(version);
  if (parsed === undefined) {
    problems.push(
      `${path}.apiVersion: "${version}" is not an Azure api-version (${API_VERSION_HELP})`,
    );
  }
  const { apiStyle, apiVersion } = parsed ?? { apiStyle: "dated" as const, apiVersion: version };
  const entra = parseResourceEntra(path, raw, endpoint, entraDefaults, problems);
  if (needsKey && apiKey === undefined && entra === undefined && raw.auth !== "entra") {
    problems.push(fileKeyNeeded(name));
  }
  if (endpoint === undefined) return undefined;
  if (raw.kind === "serverless") {
    return { name, endpoint, apiStyle: "v1", apiVersion: "", apiKey, kind: "serverless" };
  }
  const extra = anthropicEndpoint === undefined ? {} : { anthropicEndpoint };
  return entra === undefined
    ? { name, endpoint, apiStyle, apiVersion, apiKey, ...extra }
    : { name, endpoint, apiStyle, apiVersion, apiKey: undefined, entra, ...extra };
}

function parseApi(path: string, raw: unknown, problems: string[]): TargetApi | undefined {
  if (raw === undefined) return undefined;
  if (!(TARGET_APIS as readonly unknown[]).includes(raw)) {
    problems.push(`${path}: "${String(raw)}" is not one of ${TARGET_APIS.join(", ")}`);
    return undefined;
  }
  return raw as TargetApi;
}

function parseModel(
  path: string,
  name: string,
  raw: unknown,
  resources: ReadonlySet<string>,
  problems: string[],
): ModelRouteConfig | undefined {
  if (!isRecord(raw)) {
    problems.push(`${path}: must be a mapping with targets (and strategy)`);
    return undefined;
  }
  unknownKeys(path, raw, MODEL_FIELDS, problems);
  const modelApi = parseApi(`${path}.api`, raw.api, problems);
  const strategy = raw.strategy === undefined ? "priority" : String(raw.strategy);
  if (!(STRATEGIES as readonly string[]).includes(strategy)) {
    problems.push(`${path}.strategy: "${strategy}" is not one of ${STRATEGIES.join(", ")}`);
  }
  if (!Array.isArray(raw.targets) || raw.targets.length === 0) {
    problems.push(`${path}.targets: must be a non-empty list`);
    return undefined;
  }
  const targets: TargetConfig[] = [];
  raw.targets.forEach((item: unknown, index: number) => {
    const at = `${path}.targets[${index}]`;
    if (!isRecord(item)) {
      problems.push(`${at}: must be a mapping with resource and deployment`);
      return;
    }
    unknownKeys(at, item, TARGET_FIELDS, problems);
    const api = parseApi(`${at}.api`, item.api, problems) ?? modelApi;
    const resource = item.resource === undefined ? "" : String(item.resource);
    if (resource === "") problems.push(`${at}.resource: required`);
    else if (!resources.has(resource)) {
      const known = [...resources.keys()].join(", ") || "none";
      problems.push(`${at}.resource: unknown resource "${resource}" (known: ${known})`);
    }
    const deployment = item.deployment === undefined ? "" : String(item.deployment);
    if (deployment === "") problems.push(`${at}.deployment: required`);
    else if (!isSafeModelName(deployment)) {
      problems.push(
        `${at}.deployment: "${deployment}" may not contain "/", "\\", "?", "#", "%", ".." or control characters`,
      );
    }
    const priority = numberField(`${at}.priority`, item.priority, 0, problems, 0);
    const weight = numberField(`${at}.weight`, item.weight, 1, problems, 1);
    targets.push({ resource, deployment, priority, weight, ...(api === undefined ? {} : { api }) });
  });
  return { name, strategy: strategy as Strategy, targets };
}

function numberField(
  path: string,
  raw: unknown,
  fallback: number,
  problems: string[],
  min: number,
): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== "number" || !Number.isInteger(raw) || raw < min) {
    problems.push(`${path}: must be a whole number ≥ ${min}, got ${JSON.stringify(raw)}`);
    return fallback;
  }
  return raw;
}

/** Claude's host for a resource (`anthropicEndpoint`): a URL, `/anthropic[/v1]` ignored. */
function optionalEndpoint(path: string, raw: unknown, problems: string[]): string | undefined {
  const endpoint = parseEndpoint(String(raw), /\/anthropic(\/v1)?$/);
  if ("value" in endpoint) return endpoint.value;
  for (const problem of endpoint.problems) problems.push(`${path}: ${problem}`);
  return undefined;
}

function requiredEndpoint(path: string, raw: unknown, problems: string[]): string | undefined {
  if (typeof raw !== "string" || raw === "") {
    problems.push(`${path}: required (e.g. https://my-resource.openai.azure.com)`);
    return undefined;
  }
  const endpoint = parseAzureEndpoint(raw);
  if ("value" in endpoint) return endpoint.value;
  for (const problem of endpoint.problems) problems.push(`${path}: ${problem}`);
  return undefined;
}

function substitute(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): unknown {
  if (typeof value === "string") {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const found = env[name];
      if (found === undefined) {
        problems.push(`\${${name}}: the environment variable ${name} is not set`);
        return "";
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, env, problems));
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substitute(v, env, problems)]),
    );
  }
  return value;
}

const ENV_KEY_NEEDED =
  "AZURE_OPENAI_PROXY_API_KEYS: client keys need a server-held Azure credential; set AZURE_OPENAI_API_KEY (or AZURE_OPENAI_TOKEN), or AZURE_OPENAI_AUTH=entra";

const fileKeyNeeded = (name: string) =>
  `resources.${name}.apiKey: required when clients or AZURE_OPENAI_PROXY_API_KEYS are set (clients present proxy keys, not Azure keys), unless the resource uses auth: entra`;

/**
 * Rules that need the rest of the configuration: proxy client keys need a server-held
 * credential (a key or Entra ID) on every resource. `parseTopology` applies them itself when
 * given the rules (reporting them with the file's other problems); this is for a topology built
 * without them.
 */
export function checkTopology(topology: Topology, config: TopologyRules): void {
  if (config.clientKeys.length === 0 && topology.clients.size === 0) return;
  const keyless = [...topology.resources.values()].filter(
    (r) => r.apiKey === undefined && r.entra === undefined,
  );
  if (keyless.length === 0) return;
  throw new TopologyError(
    topology.source,
    keyless.map((r) =>
      r.name === ENV_RESOURCE && topology.source === "environment"
        ? ENV_KEY_NEEDED
        : fileKeyNeeded(r.name),
    ),
  );
}
