import { timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { Config } from "../config/config.ts";
import { invalidProxyKey, missingCredentials } from "../openai/errors.ts";
import type { UpstreamCredential } from "./request.ts";

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

/** Compares in constant time so a key cannot be guessed byte by byte from response times. */
function keyMatches(presented: string, allowed: readonly Buffer[]): boolean {
  const given = Buffer.from(presented);
  let ok = false;
  for (const key of allowed) {
    if (key.length === given.length && timingSafeEqual(key, given)) ok = true;
  }
  return ok;
}

/**
 * Decides who the client is and which credential goes upstream:
 * - with client keys configured, the client must present one; the server-held Azure key is used;
 * - else a server-held Azure key wins over whatever the client sent;
 * - else the client's own key goes to Azure as `api-key` (never as Bearer in the dated style);
 * - in openai mode the client's Authorization header goes to OpenAI unchanged.
 * Returns a function so keys are turned into buffers once per config, not per request.
 */
export function credentialResolver(
  config: Config,
): (headers: IncomingHttpHeaders) => UpstreamCredential {
  const serverKey = config.azure.apiKey;
  const clientKeys = config.clientKeys.map((k) => Buffer.from(k));
  if (config.mode === "openai") {
    return (headers) => {
      const auth = headers.authorization;
      if (typeof auth === "string" && auth.trim() !== "")
        return { header: "authorization", value: auth };
      const key = presentedKey(headers);
      if (key === undefined) throw missingCredentials();
      return { header: "authorization", value: `Bearer ${key}` };
    };
  }
  return (headers) => {
    const key = presentedKey(headers);
    if (clientKeys.length > 0) {
      if (key === undefined) throw missingCredentials();
      if (!keyMatches(key, clientKeys)) throw invalidProxyKey();
    }
    if (serverKey !== undefined) return { header: "api-key", value: serverKey };
    if (key === undefined) throw missingCredentials();
    return { header: "api-key", value: key };
  };
}
