/** What a `Proxy-Authorization` header says. */
export type ProxyCredential =
  | { readonly kind: "none" }
  | { readonly kind: "key"; readonly key: string }
  | { readonly kind: "malformed" };

/**
 * The key in `Proxy-Authorization`: `Bearer KEY`, or `Basic` with the key as the password
 * (`HTTPS_PROXY=http://user:KEY@host:port`). A Basic user with an empty password counts as the
 * key too, for clients that only let one write `http://KEY@host:port`.
 */
export function proxyCredential(header: string | undefined): ProxyCredential {
  if (header === undefined || header.trim() === "") return { kind: "none" };
  const match = /^(Basic|Bearer)\s+(\S+)\s*$/i.exec(header.trim());
  if (!match?.[1] || !match[2]) return { kind: "malformed" };
  if (match[1].toLowerCase() === "bearer") return { kind: "key", key: match[2] };
  const decoded = Buffer.from(match[2], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return { kind: "malformed" };
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  const key = password !== "" ? password : user;
  return key === "" ? { kind: "malformed" } : { kind: "key", key };
}
