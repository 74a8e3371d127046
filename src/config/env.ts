import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import type { Config, StudioDeployment } from "./config.ts";
import { type EntraSettings, readEntraSettings } from "./entra.ts";
import { forwardSettings } from "./forward.ts";
import { type Env, readSettings } from "./read-settings.ts";
import type { SettingValues } from "./settings.ts";
import { readTlsSettings } from "./tls.ts";
import { unknownVariableWarnings } from "./unknown-variables.ts";

export type { Env } from "./read-settings.ts";

/** Start-up configuration errors; each line names the variable and what is wrong. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/**
 * Reads `.env` in `dir` (if present) under the real environment: a variable already set wins.
 * Returns the merged view; `process.env` is left alone.
 */
export function withDotEnv(env: Env, dir = process.cwd()): Env {
  const file = `${dir}/.env`;
  if (!existsSync(file)) return env;
  const fromFile = parseEnv(readFileSync(file, "utf8"));
  return { ...fromFile, ...stripUndefined(env) };
}

function stripUndefined(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** Validates the environment into one typed Config; throws ConfigError listing every problem. */
export function readConfig(env: Env): Config {
  return readEnvironment(env).config;
}

export interface EnvironmentReading {
  readonly config: Config;
  /** Things that work but are probably not what the user meant; the caller logs them. */
  readonly warnings: readonly string[];
}

/** As `readConfig`, with the warnings (unknown variables, unused keys) for the caller to log. */
export function readEnvironment(env: Env): EnvironmentReading {
  const { values, problems: settingProblems, set } = readSettings(env);
  const problems = [...settingProblems];
  // Entra ID and TLS have readers of their own (rows of the table for docs and --help).
  const entra = readEntraSettings(env, problems);
  const tls = readTlsSettings(env, problems);
  problems.push(...combinedProblems(values, entra));
  const forward = forwardSettings(values, process.cwd());
  problems.push(...forward.problems);
  const warnings = unknownVariableWarnings(Object.keys(env));
  const studioDeployments = withModelKeys(values, warnings);
  if (problems.length > 0) throw new ConfigError(problems);

  const emulatorStandsIn = standsInForAzure(values);
  // The emulator's answers are fake: they stay on this machine unless an address was chosen.
  const host =
    values.address?.host ??
    (emulatorStandsIn && !set.has("AZURE_OPENAI_PROXY_ADDRESS") ? "127.0.0.1" : "0.0.0.0");
  const config: Config = {
    host,
    port: values.address?.port ?? 11437,
    mode: values.mode,
    azure: Object.freeze({
      endpoint: values.endpoint,
      apiStyle: values.apiVersion.apiStyle,
      apiVersion: values.apiVersion.apiVersion,
      apiKey: values.apiKey,
      anthropicEndpoint: values.anthropicEndpoint,
      entra,
      emulator: false,
    }),
    responsesApiVersion: values.responsesApiVersion ?? values.apiVersion,
    modelsApiVersion: values.modelsApiVersion,
    anthropicVersion: values.anthropicVersion,
    studioDeployments,
    openaiEndpoint: values.openaiEndpoint,
    modelMapper: values.modelMapper ?? new Map(),
    clientKeys: Object.freeze([...(values.clientKeys ?? [])]),
    maxBodySize: values.maxBodySize,
    maxUploadSize: values.maxUploadSize,
    realtimeMaxMessage: values.realtimeMaxMessage,
    configFile: values.configFile,
    maxAttempts: values.maxAttempts,
    workers: values.workers,
    metrics: values.metrics,
    adminKey: values.adminKey,
    targetHeader: values.targetHeader,
    timeouts: Object.freeze({
      connectMs: values.connectTimeout,
      responseMs: values.responseTimeout,
      streamFirstByteMs: values.streamFirstByteTimeout,
      totalMs: values.totalTimeout,
      idleMs: values.idleTimeout,
      shutdownMs: values.shutdownTimeout,
      bodyIdleMs: values.bodyIdleTimeout,
      requestBodyMs: values.requestTimeout,
    }),
    keepAzureStreamArtefacts: values.streamArtefacts === "keep",
    adaptParams: values.adaptParams !== "off",
    corsOrigins: values.corsOrigins,
    logLevel: values.logLevel,
    production: values.nodeEnv === "production",
    tls,
    forward: forward.settings,
    redisUrl: values.redisUrl,
    redisFailClosed: values.redisFail === "closed",
  };
  return { config: Object.freeze(config), warnings };
}

/** True when no Azure endpoint is configured in azure mode: the built-in emulator will answer. */
function standsInForAzure(values: SettingValues): boolean {
  return (
    values.mode === "azure" && values.endpoint === undefined && values.configFile === undefined
  );
}

/** Rules that need more than one setting. */
function combinedProblems(values: SettingValues, entra: EntraSettings): string[] {
  const problems: string[] = [];
  const production = values.nodeEnv === "production";
  const hasFile = values.configFile !== undefined;
  const clientKeys = values.clientKeys ?? [];
  if (standsInForAzure(values) && production) {
    problems.push(
      "AZURE_OPENAI_ENDPOINT: required when NODE_ENV=production (e.g. https://my-resource.openai.azure.com), unless a configuration file (--config, AZURE_OPENAI_PROXY_CONFIG) defines resources",
    );
  }
  if (
    clientKeys.length > 0 &&
    values.mode === "azure" &&
    values.apiKey === undefined &&
    entra.auth === "key" &&
    values.endpoint !== undefined &&
    !hasFile
  ) {
    problems.push(
      "AZURE_OPENAI_PROXY_API_KEYS: client keys need a server-held Azure credential; set AZURE_OPENAI_API_KEY (or AZURE_OPENAI_TOKEN), or AZURE_OPENAI_AUTH=entra",
    );
  }
  if (clientKeys.length > 0 && values.mode === "openai") {
    problems.push(
      "AZURE_OPENAI_PROXY_API_KEYS: not supported in openai mode, where the client's own OpenAI key is forwarded",
    );
  }
  return problems;
}

/** Joins each serverless deployment to its `AZURE_OPENAI_KEY_<MODEL>`; warns of keys for none. */
function withModelKeys(
  values: SettingValues,
  warnings: string[],
): ReadonlyMap<string, StudioDeployment> {
  const keys = values.modelKeys;
  const used = new Set<string>();
  const deployments = new Map<string, StudioDeployment>();
  for (const [model, deployment] of values.studioDeployments ?? []) {
    // The Go proxy's form first (upper case, as written), then the shell-friendly one.
    const upper = deployment.model.toUpperCase();
    const suffix = [upper, upper.replace(/[^A-Z0-9]/g, "_")].find((s) => keys.has(s));
    if (suffix !== undefined) used.add(suffix);
    deployments.set(model, { ...deployment, apiKey: suffix ? keys.get(suffix) : undefined });
  }
  for (const suffix of keys.keys()) {
    if (!used.has(suffix)) {
      warnings.push(
        `AZURE_OPENAI_KEY_${suffix}: no model "${suffix.toLowerCase()}" in AZURE_AI_STUDIO_DEPLOYMENTS, so this key is not used`,
      );
    }
  }
  return deployments;
}
