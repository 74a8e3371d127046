/**
 * The value parsers of the settings table: each takes the raw text of one variable and returns
 * its typed value or what is wrong with it, never naming the variable (the reader does).
 */
import { availableParallelism } from "node:os";
import { API_VERSION_HELP, parseApiVersion } from "./api-versions.ts";
import type { ApiVersionSetting, StudioDeployment } from "./config.ts";
import { isSafeModelName } from "./model-name.ts";
import type { Parsed } from "./parsed.ts";

const ok = <T>(value: T): Parsed<T> => ({ value });
const bad = (...problems: string[]): Parsed<never> => ({ problems });

/** Any text, as written. */
export const parseText = (raw: string): Parsed<string> => ok(raw);

/** One of `choices`, case-insensitively; the value is lower-cased. */
export function parseChoice<const C extends string>(choices: readonly C[]) {
  return (raw: string): Parsed<C> => {
    const lower = raw.toLowerCase();
    return (choices as readonly string[]).includes(lower)
      ? ok(lower as C)
      : bad(`must be one of ${choices.map((c) => `"${c}"`).join(", ")}, got "${raw}"`);
  };
}

/** A Redis URL; the problem never repeats it, since it may hold a password. */
export function parseRedisUrl(raw: string): Parsed<string> {
  return /^rediss?:\/\/[^\s]+$/.test(raw)
    ? ok(raw)
    : bad("must be a redis:// or rediss:// URL (e.g. redis://redis:6379)");
}

export function parseBoolean(raw: string): Parsed<boolean> {
  const lower = raw.toLowerCase();
  if (lower === "true" || lower === "1") return ok(true);
  if (lower === "false" || lower === "0") return ok(false);
  return bad(`must be true or false, got "${raw}"`);
}

export function parseWholeNumber(min: number, max: number) {
  return (raw: string): Parsed<number> => {
    const n = Number(raw);
    return Number.isInteger(n) && n >= min && n <= max && /^\d+$/.test(raw)
      ? ok(n)
      : bad(`must be a whole number from ${min} to ${max}, got "${raw}"`);
  };
}

/** `N` processes, or `auto`: one per core this process may use. */
export function parseWorkers(raw: string): Parsed<number> {
  if (raw.toLowerCase() === "auto") return ok(availableParallelism());
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= 256
    ? ok(n)
    : bad(`must be a number of processes (1-256) or "auto", got "${raw}"`);
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
export function parseSize(raw: string): Parsed<number> {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
  const unit = SIZE_UNITS[(match?.[2] ?? "").toLowerCase()];
  if (!match || unit === undefined) return bad(`"${raw}" is not a size (e.g. 64mb, 1gb, 1048576)`);
  return ok(Math.floor(Number(match[1]) * unit));
}

const DURATION_UNITS: Record<string, number> = { "": 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or a number with ms/s/m/h. */
export function parseDuration(raw: string): Parsed<number> {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
  const unit = DURATION_UNITS[(match?.[2] ?? "").toLowerCase()];
  if (!match || unit === undefined) {
    return bad(`"${raw}" is not a duration (e.g. 30s, 5m, 1500ms)`);
  }
  return ok(Math.round(Number(match[1]) * unit));
}

/** A listen address; `host` is undefined for a bare port (all interfaces). */
export interface ListenAddress {
  readonly host: string | undefined;
  readonly port: number;
}

/** `host:port`, `[::1]:port`, `:port` or a bare `port`. */
export function parseAddress(raw: string): Parsed<ListenAddress> {
  const match = /^(?:\[([^\]]+)\]:|([^:[\]]*):)?(\d{1,5})$/.exec(raw);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    return bad(`"${raw}" is not host:port or a port (e.g. 0.0.0.0:11437, 127.0.0.1:8080 or 11437)`);
  }
  return ok({ host: match[1] ?? (match[2] || undefined), port });
}

/** An Azure api-version: dated (the dated style), `v1` or `preview` (the v1 style). */
export function parseAzureApiVersion(raw: string): Parsed<ApiVersionSetting> {
  const version = parseApiVersion(raw);
  return version ? ok(version) : bad(`"${raw}" is not an Azure api-version (${API_VERSION_HELP})`);
}

/** A dated version with no suffix, as Anthropic's `anthropic-version` header takes. */
export function parsePlainDate(raw: string): Parsed<string> {
  return /^\d{4}-\d{2}-\d{2}$/.test(raw) ? ok(raw) : bad(`"${raw}" is not a YYYY-MM-DD version`);
}

/** Comma-separated, spaces trimmed, empty entries dropped. */
export function parseList(raw: string): Parsed<readonly string[]> {
  return ok(
    raw
      .split(",")
      .map((k) => k.trim())
      .filter((k) => k !== ""),
  );
}

/** `model=deployment,…`; model names lower-cased (matched case-insensitively), each once. */
export function parseModelMapper(raw: string): Parsed<ReadonlyMap<string, string>> {
  const mapper = new Map<string, string>();
  const problems: string[] = [];
  for (const entry of raw.split(",")) {
    if (entry.trim() === "") continue;
    const parts = entry.split("=").map((p) => p.trim());
    const [model, deployment] = parts;
    if (parts.length !== 2 || !model || !deployment) {
      problems.push(
        `entry "${entry.trim()}" is not model=deployment (e.g. gpt-4o=my-gpt4o-deployment)`,
      );
      continue;
    }
    if (!isSafeModelName(deployment)) {
      problems.push(
        `deployment "${deployment}" in entry "${entry.trim()}" may not contain "/", "\\", "?", "#", "%", ".." or control characters`,
      );
      continue;
    }
    const key = model.toLowerCase();
    if (mapper.has(key)) {
      problems.push(
        `model "${model}" is listed twice (model names are case-insensitive); keep one entry`,
      );
      continue;
    }
    mapper.set(key, deployment);
  }
  return problems.length > 0 ? { problems } : ok(mapper);
}

/** `model=Deployment:region,…`; model names lower-cased, each once. */
export function parseStudioDeployments(
  raw: string,
): Parsed<ReadonlyMap<string, Omit<StudioDeployment, "apiKey">>> {
  const deployments = new Map<string, Omit<StudioDeployment, "apiKey">>();
  const problems: string[] = [];
  for (const entry of raw.split(",")) {
    const text = entry.trim();
    if (text === "") continue;
    const match = /^([^=:]+)=([^=:]+):([A-Za-z0-9]+)$/.exec(text);
    const model = match?.[1]?.trim();
    const deployment = match?.[2]?.trim();
    const region = match?.[3]?.toLowerCase();
    if (!model || !deployment || !region) {
      problems.push(
        `entry "${text}" is not model=Deployment:region (e.g. mistral-large=Mistral-large2:swedencentral)`,
      );
      continue;
    }
    if (!isSafeModelName(deployment)) {
      problems.push(
        `deployment "${deployment}" in entry "${text}" may not contain "/", "\\", "?", "#", "%", ".." or control characters`,
      );
      continue;
    }
    const key = model.toLowerCase();
    if (deployments.has(key)) {
      problems.push(`model "${model}" is listed twice (model names are case-insensitive)`);
      continue;
    }
    deployments.set(key, { model, deployment, region });
  }
  return problems.length > 0 ? { problems } : ok(deployments);
}

/** `*`, or browser origins (`scheme://host[:port]`), normalised as browsers send them. */
export function parseCorsOrigins(raw: string): Parsed<"*" | readonly string[]> {
  if (raw.trim() === "*") return ok("*");
  const origins: string[] = [];
  const problems: string[] = [];
  for (const entry of raw.split(",")) {
    const text = entry.trim();
    if (text === "") continue;
    const origin = browserOrigin(text);
    if (origin === undefined) {
      problems.push(
        `"${text}" is not an origin (scheme://host[:port], e.g. https://app.example.com; or * alone for any)`,
      );
    } else if (!origins.includes(origin)) origins.push(origin);
  }
  return problems.length > 0 ? { problems } : ok(origins);
}

/** A browser's `Origin` for `text`: lower-case host, default port dropped, no path. */
function browserOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const plain =
    (url.protocol === "https:" || url.protocol === "http:") &&
    !url.username &&
    !url.password &&
    url.pathname === "/" &&
    !url.search &&
    !url.hash &&
    !/[?#]$/.test(text);
  return plain ? url.origin : undefined;
}
