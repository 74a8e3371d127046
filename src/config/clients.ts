import { createHash } from "node:crypto";
import { CLIENT_FIELDS, isRecord, LIMIT_FIELDS, unknownKeys } from "./file-fields.ts";

/** Limits of one client; an absent limit does not apply. */
export interface ClientLimits {
  /** Requests per minute. */
  readonly rpm: number | undefined;
  /** Tokens per minute (prompt + completion, from Azure's usage). */
  readonly tpm: number | undefined;
  /** Tokens per UTC day. */
  readonly tokensPerDay: number | undefined;
}

/** What a client may do: which models, how much. */
export interface ClientPolicy {
  /** Lower-cased model names the client may send; undefined allows every model. */
  readonly models: ReadonlySet<string> | undefined;
  readonly limits: ClientLimits;
}

/** One named client of the `clients:` section. */
export interface ClientConfig {
  readonly name: string;
  /** sha256 of the key: the file may hold only this, and keys are compared as digests. */
  readonly keyDigest: Buffer;
  readonly policy: ClientPolicy;
}

export const NO_LIMITS: ClientLimits = Object.freeze({
  rpm: undefined,
  tpm: undefined,
  tokensPerDay: undefined,
});

/** The policy of unnamed clients (AZURE_OPENAI_PROXY_API_KEYS, or no proxy keys at all). */
export const UNRESTRICTED: ClientPolicy = Object.freeze({ models: undefined, limits: NO_LIMITS });

/** The fixed-length digest every presented and configured key is compared as. */
export function keyDigest(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

/** Client names become log fields and store keys: keep them plain. */
const CLIENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * Validates the `clients:` section of the configuration file. Each problem names the path of the
 * bad field, like the rest of the file's errors. `anonymous` is reserved for unnamed clients.
 */
export function parseClients(raw: unknown, problems: string[]): ReadonlyMap<string, ClientConfig> {
  const clients = new Map<string, ClientConfig>();
  if (raw === undefined || raw === null) return clients;
  if (!isRecord(raw)) {
    problems.push("clients: must be a mapping of client name to client");
    return clients;
  }
  const digests = new Map<string, string>();
  for (const [name, item] of Object.entries(raw)) {
    const path = `clients.${name}`;
    if (!CLIENT_NAME.test(name) || name === "anonymous") {
      problems.push(
        `${path}: a client name is 1 to 64 letters, digits, ".", "_" or "-" (and not "anonymous")`,
      );
      continue;
    }
    const client = parseClient(path, name, item, problems);
    if (client === undefined) continue;
    const hex = client.keyDigest.toString("hex");
    const other = digests.get(hex);
    if (other !== undefined) problems.push(`${path}: has the same key as clients.${other}`);
    digests.set(hex, name);
    clients.set(name, client);
  }
  return clients;
}

function parseClient(
  path: string,
  name: string,
  raw: unknown,
  problems: string[],
): ClientConfig | undefined {
  if (!isRecord(raw)) {
    problems.push(`${path}: must be a mapping with key or keySha256 (and models, limits)`);
    return undefined;
  }
  unknownKeys(path, raw, CLIENT_FIELDS, problems);
  const digest = parseKey(path, raw, problems);
  const models = parseModels(`${path}.models`, raw.models, problems);
  const limits = parseLimits(`${path}.limits`, raw.limits, problems);
  if (digest === undefined) return undefined;
  return { name, keyDigest: digest, policy: { models, limits } };
}

function parseKey(
  path: string,
  raw: Record<string, unknown>,
  problems: string[],
): Buffer | undefined {
  const hasKey = raw.key !== undefined;
  const hasDigest = raw.keySha256 !== undefined;
  if (hasKey === hasDigest) {
    problems.push(`${path}: needs exactly one of key or keySha256`);
    return undefined;
  }
  if (hasKey) {
    // Never echo the value: it is a secret.
    if (typeof raw.key !== "string" || raw.key.length < 8) {
      problems.push(
        `${path}.key: must be a string of at least 8 characters (quote it if YAML reads a number)`,
      );
      return undefined;
    }
    return keyDigest(raw.key);
  }
  const hex = raw.keySha256;
  if (typeof hex !== "string" || !SHA256_HEX.test(hex)) {
    problems.push(
      `${path}.keySha256: must be 64 hex characters (the output of: printf %s "$KEY" | sha256sum)`,
    );
    return undefined;
  }
  return Buffer.from(hex, "hex");
}

function parseModels(
  path: string,
  raw: unknown,
  problems: string[],
): ReadonlySet<string> | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push(`${path}: must be a non-empty list of model names (omit it to allow all)`);
    return undefined;
  }
  const models = new Set<string>();
  raw.forEach((item: unknown, index) => {
    if (typeof item !== "string" || item === "") {
      problems.push(`${path}[${index}]: must be a model name, got ${JSON.stringify(item)}`);
    } else models.add(item.toLowerCase());
  });
  return models;
}

function parseLimits(path: string, raw: unknown, problems: string[]): ClientLimits {
  if (raw === undefined) return NO_LIMITS;
  if (!isRecord(raw)) {
    problems.push(`${path}: must be a mapping with rpm, tpm or tokensPerDay`);
    return NO_LIMITS;
  }
  unknownKeys(path, raw, LIMIT_FIELDS, problems);
  const limit = (field: (typeof LIMIT_FIELDS)[number]): number | undefined => {
    const value = raw[field];
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
      problems.push(`${path}.${field}: must be a whole number ≥ 1, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  };
  return { rpm: limit("rpm"), tpm: limit("tpm"), tokensPerDay: limit("tokensPerDay") };
}

/** Whether a policy lets the client use a model (names as clients send them). */
export function modelAllowed(policy: ClientPolicy, model: string): boolean {
  return policy.models === undefined || policy.models.has(model.toLowerCase());
}
