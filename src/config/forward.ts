import { isAbsolute, resolve } from "node:path";

/** A `host:port`: a blind tunnel's target, or what CONNECT asks for. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** HTTPS_PROXY mode (`src/forward/`): which hosts are intercepted, which tunnelled, where the CA lives. */
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

type Env = Readonly<Record<string, string | undefined>>;

const SWITCH: Readonly<Record<string, boolean>> = {
  on: true,
  off: false,
  true: true,
  false: false,
  "1": true,
  "0": false,
};

// A DNS name: labels of letters, digits and hyphens. Wildcards are refused on purpose: each
// intercepted host gets its own certificate and its own name constraint.
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * Reads the forward-proxy settings; appends one line per bad value to `problems`, naming the
 * variable. Self-contained so it can become rows of the settings table as they are.
 */
export function readForwardSettings(
  env: Env,
  problems: string[],
  cwd: string = process.cwd(),
): ForwardSettings {
  const value = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };

  const switchRaw = (value("AZURE_OPENAI_PROXY_FORWARD") ?? "off").toLowerCase();
  const enabled = SWITCH[switchRaw];
  if (enabled === undefined) {
    problems.push(`AZURE_OPENAI_PROXY_FORWARD: must be "on" or "off", got "${switchRaw}"`);
  }

  const hosts: string[] = [];
  for (const raw of list(value("AZURE_OPENAI_PROXY_FORWARD_HOSTS") ?? "api.openai.com")) {
    const host = normalizeHost(raw);
    if (!HOST_NAME.test(host)) {
      problems.push(
        `AZURE_OPENAI_PROXY_FORWARD_HOSTS: "${raw}" is not a host name (e.g. api.openai.com; no port, no scheme, no wildcard)`,
      );
    } else if (!hosts.includes(host)) hosts.push(host);
  }
  if (hosts.length === 0) {
    problems.push("AZURE_OPENAI_PROXY_FORWARD_HOSTS: must name at least one host");
  }

  const tunnels: HostPort[] = [];
  for (const raw of list(value("AZURE_OPENAI_PROXY_FORWARD_TUNNEL") ?? "")) {
    const target = parseHostPort(raw);
    if (target === undefined) {
      problems.push(
        `AZURE_OPENAI_PROXY_FORWARD_TUNNEL: "${raw}" is not host:port (e.g. files.example.com:443)`,
      );
    } else if (hosts.includes(target.host)) {
      // An intercepted host is never reached: the proxy must not resolve or connect to it.
      problems.push(
        `AZURE_OPENAI_PROXY_FORWARD_TUNNEL: "${raw}" names an intercepted host (AZURE_OPENAI_PROXY_FORWARD_HOSTS); the proxy answers it itself`,
      );
    } else tunnels.push(target);
  }

  const dirRaw = value("AZURE_OPENAI_PROXY_CA_DIR") ?? ".azure-oai-proxy";
  const caDir = isAbsolute(dirRaw) ? dirRaw : resolve(cwd, dirRaw);

  return Object.freeze({
    enabled: enabled ?? false,
    hosts: Object.freeze(hosts),
    tunnels: Object.freeze(tunnels),
    caDir,
  });
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
