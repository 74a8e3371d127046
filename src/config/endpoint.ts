import type { Parsed } from "./parsed.ts";

/**
 * Checks an endpoint URL and normalises it: http(s) only, no credentials, query or fragment,
 * no trailing slash, and a redundant suffix (`/openai`, `/v1`) dropped. The problem names what
 * to write instead; the caller prefixes the variable or field.
 */
export function parseEndpoint(raw: string, redundantSuffix: RegExp): Parsed<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problems: [`"${raw}" is not a URL (e.g. https://my-resource.openai.azure.com)`] };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { problems: [`must be an http:// or https:// URL, got "${url.protocol}"`] };
  }
  if (url.username || url.password || url.hash) {
    return { problems: ["must not carry credentials or a fragment"] };
  }
  if (url.search) {
    return {
      problems: [
        `must not carry a query: drop "${url.search}" (the proxy adds the api-version itself)`,
      ],
    };
  }
  const path = url.pathname.replace(/\/+$/, "").replace(redundantSuffix, "");
  return { value: `${url.origin}${path}` };
}

/** What an Azure endpoint may end with that the proxy adds itself. */
export const AZURE_ENDPOINT_SUFFIX = /\/openai(\/v1)?$/;

/**
 * An Azure resource's endpoint. Refuses a deployment's or an operation's URL (the portal's
 * "Target URI", e.g. `…/openai/deployments/gpt-4o/chat/completions?api-version=…`): every call
 * would then answer 404. The problem names the resource's endpoint to use instead.
 */
export function parseAzureEndpoint(raw: string): Parsed<string> {
  const url = URL.parse(raw);
  // With credentials, parseEndpoint refuses it without repeating the URL (never echo a secret).
  const operation =
    url && !url.username && !url.password
      ? /^(.*?)\/openai\/+(?!v1\/*$)[^/][^?#]*$/i.exec(url.pathname)
      : null;
  if (url && operation) {
    const base = operation[1] ?? "";
    const dropped = `${url.pathname.slice(base.length)}${url.search}`;
    return {
      problems: [
        `"${raw}" is a deployment's or an operation's URL, not the resource's endpoint: set ${url.origin}${base} (drop "${dropped}"); the deployment comes from each request's "model" (map names with AZURE_OPENAI_MODEL_MAPPER)`,
      ],
    };
  }
  return parseEndpoint(raw, AZURE_ENDPOINT_SUFFIX);
}
