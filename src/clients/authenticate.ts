import { timingSafeEqual } from "node:crypto";
import {
  type ClientConfig,
  type ClientPolicy,
  keyDigest,
  UNRESTRICTED,
} from "../config/clients.ts";
import { invalidProxyKey, missingCredentials } from "../openai/errors.ts";

/** Who sent a request, as limits, usage and logs know it. Never holds the key. */
export interface ClientIdentity {
  /** The client's name from the file, or `anonymous` for unnamed keys and open proxies. */
  readonly name: string;
  readonly policy: ClientPolicy;
}

export const ANONYMOUS: ClientIdentity = Object.freeze({ name: "anonymous", policy: UNRESTRICTED });

/**
 * Builds, once per configuration, the check that turns a presented key into a client. Named
 * clients and AZURE_OPENAI_PROXY_API_KEYS (unnamed clients without limits) are both compared as
 * sha256 digests with timingSafeEqual, every entry every time, so neither a key's length nor its
 * position in the list shows in response times. With no keys configured at all, every caller is
 * `anonymous` (its key, if any, is its own Azure key).
 *
 * @example
 * const identify = clientIdentifier(topology.clients, config.clientKeys);
 * identify(presentedKey(request.headers)); // { name: "team-a", policy } or throws 401
 */
export function clientIdentifier(
  clients: ReadonlyMap<string, ClientConfig>,
  unnamedKeys: readonly string[],
): (presented: string | undefined) => ClientIdentity {
  const entries: { digest: Buffer; identity: ClientIdentity }[] = [
    ...[...clients.values()].map((c) => ({
      digest: c.keyDigest,
      identity: Object.freeze({ name: c.name, policy: c.policy }),
    })),
    ...unnamedKeys.map((key) => ({ digest: keyDigest(key), identity: ANONYMOUS })),
  ];
  if (entries.length === 0) return () => ANONYMOUS;
  return (presented) => {
    if (presented === undefined) throw missingCredentials();
    const digest = keyDigest(presented);
    let found: ClientIdentity | undefined;
    for (const entry of entries) {
      if (timingSafeEqual(entry.digest, digest) && found === undefined) found = entry.identity;
    }
    if (found === undefined) throw invalidProxyKey();
    return found;
  };
}
