/**
 * Checks an endpoint URL and normalises it: http(s) only, no credentials, query or fragment,
 * no trailing slash, and a redundant suffix (`/openai`, `/v1`) dropped. Pushes a problem naming
 * `name` and returns undefined when it is not usable.
 */
export function parseEndpoint(
  name: string,
  raw: string,
  problems: string[],
  redundantSuffix: RegExp,
): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`${name}: "${raw}" is not a URL (e.g. https://my-resource.openai.azure.com)`);
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    problems.push(`${name}: must be an http:// or https:// URL, got "${url.protocol}"`);
    return undefined;
  }
  if (url.username || url.password || url.search || url.hash) {
    problems.push(`${name}: must not carry credentials, a query or a fragment`);
    return undefined;
  }
  const path = url.pathname.replace(/\/+$/, "").replace(redundantSuffix, "");
  return `${url.origin}${path}`;
}

/** What an Azure endpoint may end with that the proxy adds itself. */
export const AZURE_ENDPOINT_SUFFIX = /\/openai(\/v1)?$/;
