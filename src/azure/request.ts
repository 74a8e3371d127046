import type { IncomingHttpHeaders } from "node:http";
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
}

/**
 * The Azure URL for an operation. Dated style:
 * `{endpoint}/openai/deployments/{deployment}/{op}?api-version=…` (deployment scope) or
 * `{endpoint}/openai/{op}?api-version=…` (resource scope). v1 style: `{endpoint}/openai/v1/{op}`.
 * Path parameters and the deployment are encoded so no name can change the path's shape; the
 * client's own query parameters are kept, except api-version, which is the proxy's to set.
 */
export function buildAzureUrl(
  target: AzureTarget,
  operation: Operation,
  deployment: string | undefined,
  params: Readonly<Record<string, string>>,
  clientQuery: string,
): string {
  const opPath = fillPath(operation.azurePath, params);
  let path: string;
  if (target.apiStyle === "v1") path = `/openai/v1/${opPath}`;
  else if (operation.scope === "deployment" && deployment !== undefined)
    path = `/openai/deployments/${encodeURIComponent(deployment)}/${opPath}`;
  else path = `/openai/${opPath}`;
  const query = new URLSearchParams(clientQuery);
  query.delete("api-version");
  const version = target.apiVersion;
  const own = version === "" ? "" : `api-version=${encodeURIComponent(version)}`;
  const rest = query.toString();
  const search = own && rest ? `${own}&${rest}` : own || rest;
  return `${target.endpoint}${path}${search ? `?${search}` : ""}`;
}

/** Replaces `{name}` placeholders with encoded parameters. */
function fillPath(template: string, params: Readonly<Record<string, string>>): string {
  if (!template.includes("{")) return template;
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`operation path needs parameter ${name}`);
    return encodeURIComponent(value);
  });
}

/** Headers never forwarded: hop-by-hop, the client's credentials, and what the proxy sets itself. */
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
  "cookie",
  "accept-encoding",
  "origin",
  "referer",
]);

/**
 * The headers of the upstream request: the client's, less hop-by-hop and credentials, plus the
 * proxy's credential. `accept-encoding: identity` keeps streams readable for the SSE adapter.
 */
export function buildUpstreamHeaders(
  incoming: IncomingHttpHeaders,
  credential: UpstreamCredential | undefined,
  contentLength: number | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || DROPPED_HEADERS.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  headers["accept-encoding"] = "identity";
  if (credential !== undefined) headers[credential.header] = credential.value;
  if (contentLength !== undefined) headers["content-length"] = String(contentLength);
  return headers;
}
