import { invalidPathParameter, invalidRequestTarget } from "../openai/errors.ts";

/**
 * The upstream URL of an openai-mode request: the configured endpoint, then the client's path and
 * query as sent. The target is checked, not joined blindly: it must be origin-form (`/v1/…`), no
 * segment may be `.` or `..` (plain or percent-encoded, which a server on the way would resolve),
 * no backslash (which some servers read as `/`), no fragment; and the result must still be on
 * the configured origin, under its path.
 */
export function buildOpenAIUrl(endpoint: string, requestTarget: string): string {
  if (!requestTarget.startsWith("/") || requestTarget.includes("#")) {
    throw invalidRequestTarget(requestTarget);
  }
  const mark = requestTarget.indexOf("?");
  const path = mark === -1 ? requestTarget : requestTarget.slice(0, mark);
  const query = mark === -1 ? "" : requestTarget.slice(mark);
  for (const segment of path.split("/")) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw invalidRequestTarget(requestTarget);
    }
    if (/^\.+$/.test(decoded)) throw invalidPathParameter("path", decoded);
    if (decoded.includes("\\")) throw invalidRequestTarget(requestTarget);
  }
  const url = `${endpoint}${path}${query}`;
  const base = new URL(endpoint);
  const built = new URL(url);
  const basePath = base.pathname.replace(/\/$/, "");
  if (built.origin !== base.origin || !built.pathname.startsWith(`${basePath}/`)) {
    throw invalidRequestTarget(requestTarget);
  }
  return url;
}
