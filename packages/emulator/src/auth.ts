import type { IncomingHttpHeaders } from "node:http";
import type { ApiStyle } from "./routes.ts";

/** Prefix that marks a bearer token as an emulated Microsoft Entra ID token: `entra:<key>`. */
export const ENTRA_TOKEN_PREFIX = "entra:";

export type KeyCheck = (key: string) => boolean;

/** Builds the key test once per emulator: a fixed set, or any non-empty key when none is given. */
export function keyCheck(apiKeys: readonly string[]): KeyCheck {
  if (apiKeys.length === 0) return (key) => key.length > 0;
  const accepted = new Set(apiKeys);
  return (key) => accepted.has(key);
}

function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? "");
  return match?.[1]?.trim();
}

/**
 * Azure's rules: the dated style takes a key only in `api-key`; `Authorization: Bearer` there is
 * an Entra token (emulated as `entra:<key>`), so a plain key sent as Bearer is refused. The v1
 * style takes the key in either header.
 */
export function isAuthorized(
  style: ApiStyle,
  headers: IncomingHttpHeaders,
  isKey: KeyCheck,
): boolean {
  // A key in `api-key` decides alone, as Azure does not fall back to another credential.
  const apiKey = headers["api-key"];
  if (apiKey !== undefined) return typeof apiKey === "string" && isKey(apiKey);

  const token = bearerToken(headers);
  if (token === undefined) return false;
  if (token.startsWith(ENTRA_TOKEN_PREFIX) && isKey(token.slice(ENTRA_TOKEN_PREFIX.length))) {
    return true;
  }
  return style === "v1" && isKey(token);
}

/** The subprotocol prefix browsers use to send a key, as they cannot set headers on a WebSocket. */
export const KEY_SUBPROTOCOL_PREFIX = "openai-insecure-api-key.";

/**
 * Realtime handshakes take the key as REST requests do (`api-key`, or a bearer token by the
 * style's rules), or, for browsers, in the subprotocol `openai-insecure-api-key.<key>` or the
 * `api-key` query parameter. A present `api-key` header decides alone.
 */
export function isRealtimeAuthorized(
  style: ApiStyle,
  headers: IncomingHttpHeaders,
  query: Record<string, string>,
  subprotocols: readonly string[],
  isKey: KeyCheck,
): boolean {
  if (headers["api-key"] !== undefined) return isAuthorized(style, headers, isKey);
  const offered = subprotocols.find((p) => p.startsWith(KEY_SUBPROTOCOL_PREFIX));
  if (offered !== undefined) return isKey(offered.slice(KEY_SUBPROTOCOL_PREFIX.length));
  const inQuery = query["api-key"];
  if (inQuery !== undefined) return isKey(inQuery);
  return isAuthorized(style, headers, isKey);
}
