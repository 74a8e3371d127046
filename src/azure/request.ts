import type { IncomingHttpHeaders } from "node:http";
import { invalidPathParameter } from "../openai/errors.ts";
import type { Operation } from "../openai/operations.ts";

/** Where one upstream request goes: the Azure resource and its API style. */
export interface AzureTarget {
  readonly endpoint: string;
  readonly apiStyle: "dated" | "v1";
  /** Dated version, or "preview"/"" in the v1 style. */
  readonly apiVersion: string;
}

/** A credential header to send upstream. */
export interface UpstreamCredential {
  readonly header: "api-key" | "authorization";
  readonly value: string;
  /** What caches keyed by credential use instead of `value`, which changes with every token. */
  readonly cacheKey?: string;
}

/**
 * The Azure URL for an operation. Dated style:
 * `{endpoint}/openai/deployments/{deployment}/{op}?api-version=…` (deployment scope) or
 * `{endpoint}/openai/{op}?api-version=…` (resource scope). v1 style: `{endpoint}/openai/v1/{op}`.
 * A deployment taken from the query (realtime) goes back in the query: `deployment=` (dated) or
 * `model=` (v1). Path parameters and the deployment are encoded so no name can change the path's
 * shape; the client's own query parameters are kept, except api-version, which is the proxy's.
 */
export function buildAzureUrl(
  target: AzureTarget,
  operation: Operation,
  deployment: string | undefined,
  params: Readonly<Record<string, string | undefined>>,
  clientQuery: string,
): string {
  const style = operation.fixedApiVersion === undefined ? target.apiStyle : "dated";
  const version = operation.fixedApiVersion ?? target.apiVersion;
  const opPath = fillPath(operation.azurePath, params);
  const query = new URLSearchParams(clientQuery);
  query.delete("api-version");
  let path: string;
  if (style === "v1") path = `/openai/v1/${opPath}`;
  else if (
    operation.scope === "deployment" &&
    operation.model !== "query" &&
    deployment !== undefined
  )
    path = `/openai/deployments/${encodeURIComponent(deployment)}/${opPath}`;
  else path = `/openai/${opPath}`;
  if (operation.model === "query" && deployment !== undefined) {
    query.delete("model");
    query.set(style === "v1" ? "model" : "deployment", deployment);
  }
  const own = version === "" ? "" : `api-version=${encodeURIComponent(version)}`;
  const rest = query.toString();
  const search = own && rest ? `${own}&${rest}` : own || rest;
  return `${target.endpoint}${path}${search ? `?${search}` : ""}`;
}

/** Replaces `{name}` placeholders with encoded parameters; `{*}` takes a path of several segments. */
function fillPath(template: string, params: Readonly<Record<string, string | undefined>>): string {
  if (!template.includes("{")) return template;
  return template.replace(/\{(\w+|\*)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`operation path needs parameter ${name}`);
    if (name === "*") return encodeSegments(value);
    // "." and ".." survive encoding and would be resolved by the server: refuse them.
    if (value === "." || value === ".." || value === "") throw invalidPathParameter(name, value);
    return encodeURIComponent(value);
  });
}

/**
 * Each segment encoded on its own. A `.` or `..` segment (decoded, so `%2e%2e` too) would be
 * resolved by a server on the way and climb out of /openai/: refused, not silently dropped.
 */
function encodeSegments(path: string): string {
  return path
    .split("/")
    .filter((segment) => segment !== "")
    .map((segment) => {
      if (/^\.+$/.test(segment)) throw invalidPathParameter("path", segment);
      return encodeURIComponent(segment);
    })
    .join("/");
}

/**
 * Headers never forwarded: hop-by-hop, the client's credentials, what the proxy sets itself, and
 * what a client could use to claim another origin, address or path to Azure or a gateway in
 * front of it (`Forwarded`, `X-Forwarded-*`, IIS/APIM's `X-Original-URL`/`X-Rewrite-URL`).
 */
const DROPPED_HEADERS = new Set([
  "host",
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "proxy-authenticate",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "expect",
  "content-length",
  "authorization",
  "api-key",
  "x-api-key",
  "cookie",
  "accept-encoding",
  "origin",
  "referer",
  "forwarded",
  "x-original-url",
  "x-rewrite-url",
  "x-real-ip",
]);
const DROPPED_PREFIXES = ["x-forwarded-"];

/**
 * The headers of the upstream request: the client's, less hop-by-hop (including any its
 * `Connection` header names), forwarding claims and credentials, plus the proxy's credential.
 * `accept-encoding: identity` keeps streams readable for the SSE adapter.
 */
export function buildUpstreamHeaders(
  incoming: IncomingHttpHeaders,
  credential: UpstreamCredential | undefined,
  contentLength: number | undefined,
): Record<string, string> {
  const hop = connectionTokens(incoming.connection);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (
      value === undefined ||
      DROPPED_HEADERS.has(name) ||
      hop.has(name) ||
      DROPPED_PREFIXES.some((prefix) => name.startsWith(prefix))
    )
      continue;
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  headers["accept-encoding"] = "identity";
  if (credential !== undefined) headers[credential.header] = credential.value;
  if (contentLength !== undefined) headers["content-length"] = String(contentLength);
  return headers;
}

/** Header names a `Connection` header lists as belonging to this hop only (RFC 9110 §7.6.1). */
export function connectionTokens(value: string | string[] | undefined): Set<string> {
  const names = new Set<string>();
  for (const part of (Array.isArray(value) ? value.join(",") : (value ?? "")).split(",")) {
    const name = part.trim().toLowerCase();
    if (name !== "") names.add(name);
  }
  return names;
}
