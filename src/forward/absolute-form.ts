import { normalizeHost } from "../config/forward.ts";

/** Where an absolute-form request (`POST http://api.openai.com/v1/…`, sent to a proxy) goes. */
export interface AbsoluteFormTarget {
  /** Lower case, no trailing dot, IPv6 without brackets. */
  readonly host: string;
  /** `host` or `host:port` as the request gave it: the Host header to serve it with. */
  readonly authority: string;
  /** The origin-form the server routes: path and query. */
  readonly path: string;
}

/**
 * The target of an absolute-form request line, or undefined for an origin-form one (`/v1/…`,
 * `*`) or one that is not an http(s) URL.
 */
export function absoluteFormTarget(url: string): AbsoluteFormTarget | undefined {
  if (url.startsWith("/") || url === "*") return undefined;
  if (!/^https?:\/\//i.test(url)) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const hostname = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  // URL collapses `..` segments; the raw path is kept so the router sees what the client sent.
  const afterAuthority = url.slice(url.indexOf("//") + 2);
  const slash = afterAuthority.search(/[/?]/);
  const rest = slash < 0 ? "" : afterAuthority.slice(slash);
  const path = rest.startsWith("?") ? `/${rest}` : rest || "/";
  return {
    host: normalizeHost(hostname),
    authority: parsed.host,
    path: path.split("#", 1)[0] ?? "/",
  };
}
