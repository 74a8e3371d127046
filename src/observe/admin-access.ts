import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { adminKeyNotSet, adminKeyRequired, type ProxyError } from "../openai/errors.ts";

/**
 * Who may read the operator's pages (`/status`, `/status.json`, `/usage`). Without configured
 * clients, anyone who can reach the proxy can use it, and may see its figures too. With clients,
 * the admin key is needed: as `Authorization: Bearer KEY`, or as the password of HTTP Basic auth,
 * which a browser asks for by itself (any user name).
 *
 * Returns undefined when allowed, else the error to answer with.
 */
export function checkAdminAccess(
  headers: IncomingHttpHeaders,
  adminKey: string | undefined,
  clientsConfigured: boolean,
): ProxyError | undefined {
  if (adminKey === undefined) return clientsConfigured ? adminKeyNotSet() : undefined;
  const presented = presentedKey(headers.authorization);
  if (presented !== undefined && sameKey(presented, adminKey)) return undefined;
  return adminKeyRequired();
}

function presentedKey(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const space = authorization.indexOf(" ");
  if (space < 0) return undefined;
  const scheme = authorization.slice(0, space).toLowerCase();
  const credentials = authorization.slice(space + 1).trim();
  if (scheme === "bearer") return credentials;
  if (scheme !== "basic") return undefined;
  const decoded = Buffer.from(credentials, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/** Compares digests, so the time taken says nothing about the key or its length. */
function sameKey(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}
