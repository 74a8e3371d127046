import type { IncomingHttpHeaders, ServerResponse } from "node:http";

/** Headers OpenAI clients send from a browser; the SDKs' `x-stainless-*` headers are allowed by prefix. */
const ALLOWED_HEADERS = new Set([
  "authorization",
  "api-key",
  "content-type",
  "accept",
  "openai-beta",
  "openai-organization",
  "openai-project",
  "x-request-id",
]);
/** Every method a route answers: PUT and PATCH are routed too (generic `/v1/…` paths). */
const ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
/**
 * Response headers a page may read. `Access-Control-Expose-Headers` takes names, not patterns
 * (and `*` is ignored for credentialed requests), so the families are spelt out.
 */
const EXPOSED_HEADERS = [
  "x-request-id",
  "apim-request-id",
  "retry-after",
  "retry-after-ms",
  "x-ratelimit-limit-requests",
  "x-ratelimit-limit-tokens",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-remaining-tokens",
  "x-ratelimit-reset-requests",
  "x-ratelimit-reset-tokens",
  "openai-model",
  "openai-organization",
  "openai-processing-ms",
  "openai-project",
  "openai-version",
  "x-azure-oai-proxy-target",
].join(", ");

function headerAllowed(name: string): boolean {
  return ALLOWED_HEADERS.has(name) || name.startsWith("x-stainless-");
}

export interface Cors {
  /**
   * Sets Access-Control-Allow-Origin and -Expose-Headers (and Vary) on a response, if the origin
   * is allowed.
   */
  apply(requestHeaders: IncomingHttpHeaders, response: ServerResponse): void;
  /** The headers of a preflight answer. */
  preflight(requestHeaders: IncomingHttpHeaders): Record<string, string>;
}

/** CORS for browser clients, decided once per config: `*`, or a list of allowed origins. */
export function createCors(origins: "*" | readonly string[]): Cors {
  const allowed = origins === "*" ? undefined : new Set(origins);
  const allowOrigin = (origin: string | undefined): string | undefined => {
    if (allowed === undefined) return "*";
    return origin !== undefined && allowed.has(origin) ? origin : undefined;
  };
  return {
    apply(requestHeaders, response) {
      const origin = allowOrigin(requestHeaders.origin);
      if (origin !== undefined) {
        response.setHeader("access-control-allow-origin", origin);
        response.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
      }
      if (allowed !== undefined) response.setHeader("vary", "Origin");
    },
    preflight(requestHeaders) {
      const requested = String(requestHeaders["access-control-request-headers"] ?? "")
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter((h) => h !== "" && headerAllowed(h));
      return {
        "access-control-allow-methods": ALLOWED_METHODS,
        "access-control-allow-headers": [...new Set([...ALLOWED_HEADERS, ...requested])].join(", "),
        "access-control-max-age": "86400",
      };
    },
  };
}
