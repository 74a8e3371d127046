import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { API_VERSION_HELP, DEFAULT_API_VERSION, parseApiVersion } from "../azure/api-versions.ts";
import { isSafeModelName } from "../routing/resolve-deployment.ts";
import type { Config, ProxyMode } from "./config.ts";
import { AZURE_ENDPOINT_SUFFIX, parseEndpoint } from "./endpoint.ts";
import { REALTIME_MAX_MESSAGE_SETTING, readRealtimeMaxMessage } from "./realtime-max-message.ts";

/** Start-up configuration errors; each line names the variable and what is wrong. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

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
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };

  const production = value("NODE_ENV") === "production";

  const [host, port] = parseAddress(
    value("AZURE_OPENAI_PROXY_ADDRESS") ?? "0.0.0.0:11437",
    problems,
  );

  const modeRaw = (value("AZURE_OPENAI_PROXY_MODE") ?? "azure").toLowerCase();
  let mode: ProxyMode = "azure";
  if (modeRaw === "azure" || modeRaw === "openai") mode = modeRaw;
  else problems.push(`AZURE_OPENAI_PROXY_MODE: must be "azure" or "openai", got "${modeRaw}"`);

  const endpointRaw = value("AZURE_OPENAI_ENDPOINT");
  const endpoint =
    endpointRaw === undefined
      ? undefined
      : parseEndpoint("AZURE_OPENAI_ENDPOINT", endpointRaw, problems, AZURE_ENDPOINT_SUFFIX);
  const hasFile = value("AZURE_OPENAI_PROXY_CONFIG") !== undefined;
  if (endpointRaw === undefined && !hasFile && mode === "azure" && production) {
    problems.push(
      "AZURE_OPENAI_ENDPOINT: required when NODE_ENV=production (e.g. https://my-resource.openai.azure.com), unless a configuration file (--config, AZURE_OPENAI_PROXY_CONFIG) defines resources",
    );
  }

  const versionRaw = value("AZURE_OPENAI_APIVERSION") ?? DEFAULT_API_VERSION;
  const version = parseApiVersion(versionRaw);
  if (version === undefined) {
    problems.push(
      `AZURE_OPENAI_APIVERSION: "${versionRaw}" is not an Azure api-version (${API_VERSION_HELP})`,
    );
  }
  const { apiStyle, apiVersion } = version ?? {
    apiStyle: "dated" as const,
    apiVersion: versionRaw,
  };

  const modelMapper = parseModelMapper(value("AZURE_OPENAI_MODEL_MAPPER"), problems);

  const apiKey = value("AZURE_OPENAI_API_KEY") ?? value("AZURE_OPENAI_TOKEN");

  const clientKeys = (value("AZURE_OPENAI_PROXY_API_KEYS") ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  if (
    clientKeys.length > 0 &&
    mode === "azure" &&
    apiKey === undefined &&
    endpoint !== undefined &&
    !hasFile
  ) {
    problems.push(
      "AZURE_OPENAI_PROXY_API_KEYS: client keys need a server-held Azure key; set AZURE_OPENAI_API_KEY (or AZURE_OPENAI_TOKEN)",
    );
  }
  if (clientKeys.length > 0 && mode === "openai") {
    problems.push(
      "AZURE_OPENAI_PROXY_API_KEYS: not supported in openai mode, where the client's own OpenAI key is forwarded",
    );
  }

  const openaiEndpoint =
    parseEndpoint(
      "OPENAI_API_ENDPOINT",
      value("OPENAI_API_ENDPOINT") ?? "https://api.openai.com",
      problems,
      /\/v1$/,
    ) ?? "https://api.openai.com";

  const maxBodySize = parseSize(
    "AZURE_OPENAI_PROXY_MAX_BODY_SIZE",
    value("AZURE_OPENAI_PROXY_MAX_BODY_SIZE") ?? "64mb",
    problems,
  );
  const maxUploadSize = parseSize(
    "AZURE_OPENAI_PROXY_MAX_UPLOAD_SIZE",
    value("AZURE_OPENAI_PROXY_MAX_UPLOAD_SIZE") ?? "512mb",
    problems,
  );
  const realtimeMaxMessage = readRealtimeMaxMessage(env[REALTIME_MAX_MESSAGE_SETTING], problems);
  const duration = (name: string, fallback: string) =>
    parseDuration(name, value(name) ?? fallback, problems);
  const timeouts = {
    connectMs: duration("AZURE_OPENAI_PROXY_CONNECT_TIMEOUT", "10s"),
    responseMs: duration("AZURE_OPENAI_PROXY_RESPONSE_TIMEOUT", "10m"),
    streamFirstByteMs: duration("AZURE_OPENAI_PROXY_STREAM_FIRST_BYTE_TIMEOUT", "2m"),
    totalMs: duration("AZURE_OPENAI_PROXY_TOTAL_TIMEOUT", "30m"),
    idleMs: duration("AZURE_OPENAI_PROXY_IDLE_TIMEOUT", "5m"),
    shutdownMs: duration("AZURE_OPENAI_PROXY_SHUTDOWN_TIMEOUT", "30s"),
  };

  const attemptsRaw = value("AZURE_OPENAI_PROXY_MAX_ATTEMPTS") ?? "3";
  const maxAttempts = Number(attemptsRaw);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 20) {
    problems.push(
      `AZURE_OPENAI_PROXY_MAX_ATTEMPTS: must be a whole number from 1 to 20, got "${attemptsRaw}"`,
    );
  }
  const targetHeaderRaw = (value("AZURE_OPENAI_PROXY_TARGET_HEADER") ?? "false").toLowerCase();
  if (!["true", "false", "1", "0"].includes(targetHeaderRaw)) {
    problems.push(
      `AZURE_OPENAI_PROXY_TARGET_HEADER: must be true or false, got "${targetHeaderRaw}"`,
    );
  }
  const configFile = value("AZURE_OPENAI_PROXY_CONFIG");

  const artefacts = (value("AZURE_OPENAI_PROXY_STREAM_ARTEFACTS") ?? "strip").toLowerCase();
  if (artefacts !== "strip" && artefacts !== "keep") {
    problems.push(
      `AZURE_OPENAI_PROXY_STREAM_ARTEFACTS: must be "strip" or "keep", got "${artefacts}"`,
    );
  }

  const corsRaw = value("AZURE_OPENAI_PROXY_CORS_ORIGINS") ?? "*";
  const corsOrigins =
    corsRaw === "*"
      ? ("*" as const)
      : corsRaw
          .split(",")
          .map((o) => o.trim())
          .filter((o) => o !== "");

  const logLevel = (value("LOG_LEVEL") ?? "info").toLowerCase();
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    host,
    port,
    mode,
    azure: Object.freeze({ endpoint, apiStyle, apiVersion, apiKey, emulator: false }),
    openaiEndpoint,
    modelMapper,
    clientKeys: Object.freeze(clientKeys),
    maxBodySize,
    maxUploadSize,
    realtimeMaxMessage,
    configFile,
    maxAttempts,
    targetHeader: targetHeaderRaw === "true" || targetHeaderRaw === "1",
    timeouts: Object.freeze(timeouts),
    keepAzureStreamArtefacts: artefacts === "keep",
    corsOrigins,
    logLevel,
    production,
  });
}

/** `host:port`, `:port`, `[::1]:port` or `port`. */
function parseAddress(raw: string, problems: string[]): [string, number] {
  const match = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/.exec(raw);
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(
      `AZURE_OPENAI_PROXY_ADDRESS: "${raw}" is not host:port (e.g. 0.0.0.0:11437 or 127.0.0.1:8080)`,
    );
    return ["0.0.0.0", 11437];
  }
  const host = match[1] ?? (match[2] || "0.0.0.0");
  return [host, port];
}

/** `model=deployment,model2=deployment2`; model names are matched case-insensitively. */
function parseModelMapper(raw: string | undefined, problems: string[]): Map<string, string> {
  const mapper = new Map<string, string>();
  if (raw === undefined) return mapper;
  for (const entry of raw.split(",")) {
    if (entry.trim() === "") continue;
    const parts = entry.split("=").map((p) => p.trim());
    const [model, deployment] = parts;
    if (parts.length !== 2 || !model || !deployment) {
      problems.push(
        `AZURE_OPENAI_MODEL_MAPPER: entry "${entry.trim()}" is not model=deployment (e.g. gpt-4o=my-gpt4o-deployment)`,
      );
      continue;
    }
    if (!isSafeModelName(deployment)) {
      problems.push(
        `AZURE_OPENAI_MODEL_MAPPER: deployment "${deployment}" in entry "${entry.trim()}" may not contain "/", "\\", "?", "#", "%", ".." or control characters`,
      );
      continue;
    }
    mapper.set(model.toLowerCase(), deployment);
  }
  return mapper;
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1024,
  k: 1024,
  mb: 1024 ** 2,
  m: 1024 ** 2,
  gb: 1024 ** 3,
  g: 1024 ** 3,
};

/** Bytes, or a number with kb/mb/gb (binary units). */
export function parseSize(name: string, raw: string, problems: string[]): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
  const unit = SIZE_UNITS[(match?.[2] ?? "").toLowerCase()];
  if (!match || unit === undefined) {
    problems.push(`${name}: "${raw}" is not a size (e.g. 64mb, 1gb, 1048576)`);
    return 0;
  }
  return Math.floor(Number(match[1]) * unit);
}

const DURATION_UNITS: Record<string, number> = { "": 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or a number with ms/s/m/h. */
export function parseDuration(name: string, raw: string, problems: string[]): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
  const unit = DURATION_UNITS[(match?.[2] ?? "").toLowerCase()];
  if (!match || unit === undefined) {
    problems.push(`${name}: "${raw}" is not a duration (e.g. 30s, 5m, 1500ms)`);
    return 0;
  }
  return Math.round(Number(match[1]) * unit);
}
