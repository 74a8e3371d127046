/**
 * HTTPS_PROXY mode's settings (`src/forward/`): the parsers of its rows of the settings table,
 * and the typed settings built from them.
 */
import { isAbsolute, resolve } from "node:path";
import type { Parsed } from "./parsed.ts";

/** A `host:port`: a blind tunnel's target, or what CONNECT asks for. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** HTTPS_PROXY mode: which hosts are intercepted, which tunnelled, where the CA lives. */
export interface ForwardSettings {
  /** `AZURE_OPENAI_PROXY_FORWARD=on`: the listener also answers CONNECT and absolute-form requests. */
  readonly enabled: boolean;
  /** Lower-case host names whose traffic is decrypted and served by the proxy itself. */
  readonly hosts: readonly string[];
  /** Blind tunnels allowed besides; never an intercepted host. */
  readonly tunnels: readonly HostPort[];
  /** Absolute path of the folder with `ca.pem` and `ca-key.pem`. */
  readonly caDir: string;
}

const ok = <T>(value: T): Parsed<T> => ({ value });
const bad = (...problems: string[]): Parsed<never> => ({ problems });

const SWITCH: Readonly<Record<string, boolean>> = {
  on: true,
  off: false,
  true: true,
  false: false,
  "1": true,
  "0": false,
};

/** `on` or `off` (also true/false, 1/0). */
export function parseOnOff(raw: string): Parsed<boolean> {
  const value = SWITCH[raw.toLowerCase()];
  return value === undefined ? bad(`must be "on" or "off", got "${raw}"`) : ok(value);
}

// A DNS name: labels of letters, digits and hyphens. Wildcards are refused on purpose: each
// intercepted host gets its own certificate and its own name constraint.
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Comma-separated host names, lower-cased, without trailing dots, each once; at least one. */
export function parseForwardHosts(raw: string): Parsed<readonly string[]> {
  const hosts: string[] = [];
  const problems: string[] = [];
  for (const entry of list(raw)) {
    const host = normalizeHost(entry);
    if (!HOST_NAME.test(host)) {
      problems.push(
        `"${entry}" is not a host name (e.g. api.openai.com; no port, no scheme, no wildcard)`,
      );
    } else if (!hosts.includes(host)) hosts.push(host);
  }
  if (hosts.length === 0 && problems.length === 0) problems.push("must name at least one host");
  return problems.length > 0 ? bad(...problems) : ok(hosts);
}

/** Comma-separated `host:port` targets of blind tunnels. */
export function parseTunnelTargets(raw: string): Parsed<readonly HostPort[]> {
  const targets: HostPort[] = [];
  const problems: string[] = [];
  for (const entry of list(raw)) {
    const target = parseHostPort(entry);
    if (target === undefined) {
      problems.push(`"${entry}" is not host:port (e.g. files.example.com:443)`);
    } else targets.push(target);
  }
  return problems.length > 0 ? bad(...problems) : ok(targets);
}

/**
 * The forward settings from their table values, the CA folder resolved against `cwd`; with the
 * rule that needs two of them: a tunnel never goes to an intercepted host (the proxy must not
 * resolve or connect to one).
 */
export function forwardSettings(
  values: {
    readonly forward: boolean;
    readonly forwardHosts: readonly string[];
    readonly forwardTunnels: readonly HostPort[] | undefined;
    readonly caDir: string;
  },
  cwd: string,
): { readonly settings: ForwardSettings; readonly problems: readonly string[] } {
  const hosts = values.forwardHosts;
  const problems: string[] = [];
  const tunnels: HostPort[] = [];
  for (const target of values.forwardTunnels ?? []) {
    if (hosts.includes(target.host)) {
      problems.push(
        `AZURE_OPENAI_PROXY_FORWARD_TUNNEL: "${target.host}:${target.port}" names an intercepted host (AZURE_OPENAI_PROXY_FORWARD_HOSTS); the proxy answers it itself`,
      );
    } else tunnels.push(target);
  }
  const caDir = isAbsolute(values.caDir) ? values.caDir : resolve(cwd, values.caDir);
  return {
    settings: Object.freeze({
      enabled: values.forward,
      hosts: Object.freeze([...hosts]),
      tunnels: Object.freeze(tunnels),
      caDir,
    }),
    problems,
  };
}

function list(raw: string): string[] {
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** Lower case, without the trailing dot of a fully qualified name. */
export function normalizeHost(host: string): string {
  const lower = host.trim().toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/** `host:port` or `[v6]:port`; undefined when it is not one. */
export function parseHostPort(raw: string): HostPort | undefined {
  const match = /^(?:\[([0-9a-f:.]+)\]|([^:\s[\]/@]+)):(\d{1,5})$/i.exec(raw.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  const host = normalizeHost(match[1] ?? match[2] ?? "");
  if (host === "") return undefined;
  return { host, port };
}
