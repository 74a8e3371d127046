import { timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { ANONYMOUS, type ClientIdentity, clientIdentifier } from "../clients/authenticate.ts";
import { type ClientConfig, keyDigest } from "../config/clients.ts";
import type { Config } from "../config/config.ts";
import type { ResourceConfig } from "../config/topology.ts";
import type { EntraTokens } from "../identity/entra-tokens.ts";
import { missingCredentials } from "../openai/errors.ts";
import type { UpstreamCredential } from "./request.ts";

/** Who the client is, as far as credentials go. */
export interface ClientAuth {
  /** The key the client presented, when it is an Azure key to pass through. */
  readonly azureKey: string | undefined;
  /** The client proved itself with one of the proxy's own keys. */
  readonly proxyKey: boolean;
  /** openai mode: the Authorization header to forward unchanged. */
  readonly authorization: string | undefined;
  /** The named client (its models and limits), or `anonymous`. */
  readonly client: ClientIdentity;
}

/** The key a client presented, from `Authorization: Bearer …` or `api-key`. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const apiKey = headers["api-key"];
  if (typeof apiKey === "string" && apiKey.trim() !== "") return apiKey.trim();
  const auth = headers.authorization;
  if (typeof auth === "string") {
    const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (match?.[1]) return match[1].trim();
  }
  return undefined;
}

/**
 * Checks the client before anything is forwarded. With proxy keys configured (named clients of
 * the file, AZURE_OPENAI_PROXY_API_KEYS), the client must present one of them; otherwise whatever
 * key it presents is its Azure key. Built once per configuration (and again on reload) so keys
 * become digests once, not per request.
 */
export function clientAuthenticator(
  config: Config,
  clients: ReadonlyMap<string, ClientConfig> = new Map(),
): (headers: IncomingHttpHeaders) => ClientAuth {
  if (config.mode === "openai") {
    return (headers) => {
      const auth = headers.authorization;
      if (typeof auth === "string" && auth.trim() !== "") {
        return { azureKey: undefined, proxyKey: false, authorization: auth, client: ANONYMOUS };
      }
      const key = presentedKey(headers);
      if (key === undefined) throw missingCredentials();
      return {
        azureKey: undefined,
        proxyKey: false,
        authorization: `Bearer ${key}`,
        client: ANONYMOUS,
      };
    };
  }
  if (config.clientKeys.length > 0 || clients.size > 0) {
    const identify = clientIdentifier(clients, config.clientKeys);
    return (headers) => ({
      azureKey: undefined,
      proxyKey: true,
      authorization: undefined,
      client: identify(presentedKey(headers)),
    });
  }
  return (headers) => ({
    azureKey: presentedKey(headers),
    proxyKey: false,
    authorization: undefined,
    client: ANONYMOUS,
  });
}

/**
 * What the proxy itself holds to call a resource, described for an error and a log line;
 * undefined when the client's own credential is passed through.
 */
export function heldCredential(
  resource: ResourceConfig | undefined,
  client: ClientAuth,
): string | undefined {
  if (client.authorization !== undefined || resource === undefined) return undefined;
  if (resource.entra !== undefined) {
    return `${resource.entra.credential} (resource "${resource.name}")`;
  }
  if (resource.apiKey === undefined) return undefined;
  return `api-key (resource "${resource.name}")`;
}

/**
 * For forward mode: whether a client presenting `key` (from Proxy-Authorization; `undefined`:
 * none at all) gets through the proxy's door. With client keys configured it must be one of
 * them; without, any key passes (it is the client's Azure key), and so does none.
 */
export function proxyKeyCheck(config: Config): (key: string | undefined) => boolean {
  // Compared as sha256 digests, every key every time, like clientIdentifier.
  const digests = config.clientKeys.map(keyDigest);
  if (digests.length === 0) return () => true;
  return (key) => {
    if (key === undefined) return false;
    const given = keyDigest(key);
    let ok = false;
    for (const digest of digests) if (timingSafeEqual(digest, given)) ok = true;
    return ok;
  };
}

/**
 * The credential for one resource: its server-held key wins; otherwise the client's own Azure
 * key goes as `api-key` (never as Bearer in the dated style). In openai mode, the client's
 * Authorization header.
 */
export function upstreamCredential(
  resource: ResourceConfig | undefined,
  client: ClientAuth,
): UpstreamCredential {
  if (client.authorization !== undefined)
    return { header: "authorization", value: client.authorization };
  if (resource?.apiKey !== undefined) return { header: "api-key", value: resource.apiKey };
  if (client.azureKey === undefined) throw missingCredentials();
  return { header: "api-key", value: client.azureKey };
}

/**
 * The credential for one resource, Microsoft Entra ID included: a keyless resource gets its
 * token as `Authorization: Bearer` (in both API styles; whatever key the client sent is never
 * forwarded to it); any other resource, as {@link upstreamCredential}. Synchronous when no token
 * must be waited for, so key auth and a cached token cost no extra tick.
 */
export function resourceCredential(
  resource: ResourceConfig,
  client: ClientAuth,
  tokens: EntraTokens,
): UpstreamCredential | Promise<UpstreamCredential> {
  const entra = resource.entra;
  if (entra === undefined || client.authorization !== undefined) {
    return upstreamCredential(resource, client);
  }
  const cache = tokens.for(entra);
  const cacheKey = cache.cacheKey;
  const cached = cache.peek();
  if (cached !== undefined) return { header: "authorization", value: `Bearer ${cached}`, cacheKey };
  return cache.token().then((token) => ({
    header: "authorization",
    value: `Bearer ${token}`,
    cacheKey,
  }));
}

/** The token of a Bearer credential sent upstream (to name the one Azure refused). */
export function bearerToken(authorization: string | undefined): string | undefined {
  return authorization?.startsWith("Bearer ") ? authorization.slice(7) : undefined;
}
