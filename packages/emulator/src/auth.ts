import type { IncomingHttpHeaders } from "node:http";
import type { ApiStyle } from "./routes.ts";

/** Prefix that marks a bearer token as an emulated Microsoft Entra ID token: `entra:<key>`. */
export const ENTRA_TOKEN_PREFIX = "entra:";

export type KeyCheck = (key: string) => boolean;

/** What the emulated resource accepts: its keys, and Entra tokens its identity endpoint issued. */
export interface CredentialCheck {
  readonly isKey: KeyCheck;
  readonly isEntraToken: (token: string) => boolean;
  /** Keys disabled (Azure's disableLocalAuth): only Entra tokens are accepted. */
  readonly keyless: boolean;
}

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
  check: CredentialCheck,
): boolean {
  const { isKey, keyless } = check;
  // A key in `api-key` decides alone, as Azure does not fall back to another credential.
  const apiKey = headers["api-key"];
  if (apiKey !== undefined) return !keyless && typeof apiKey === "string" && isKey(apiKey);

  const token = bearerToken(headers);
  if (token === undefined) return false;
  if (check.isEntraToken(token)) return true;
  if (keyless) return false;
  if (token.startsWith(ENTRA_TOKEN_PREFIX) && isKey(token.slice(ENTRA_TOKEN_PREFIX.length))) {
    return true;
  }
  return style === "v1" && isKey(token);
}

/** With keys disabled, Azure tells a caller that sent one (403), rather than just refusing it. */
export function sentDisabledKey(
  headers: IncomingHttpHeaders,
  check: CredentialCheck,
  query: Record<string, string> = {},
  subprotocols: readonly string[] = [],
): boolean {
  return (
    check.keyless &&
    (headers["api-key"] !== undefined ||
      query["api-key"] !== undefined ||
      subprotocols.some((p) => p.startsWith(KEY_SUBPROTOCOL_PREFIX)))
  );
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
  check: CredentialCheck,
): boolean {
  if (headers["api-key"] !== undefined) return isAuthorized(style, headers, check);
  const offered = subprotocols.find((p) => p.startsWith(KEY_SUBPROTOCOL_PREFIX));
  if (offered !== undefined) {
    return !check.keyless && check.isKey(offered.slice(KEY_SUBPROTOCOL_PREFIX.length));
  }
  const inQuery = query["api-key"];
  if (inQuery !== undefined) return !check.keyless && check.isKey(inQuery);
  return isAuthorized(style, headers, check);
}
