/** Where `/metrics` is served: on the main port, not at all, or on a listener of its own. */
export type MetricsSetting =
  | { readonly kind: "main" }
  | { readonly kind: "off" }
  | { readonly kind: "listener"; readonly host: string; readonly port: number };

export const METRICS_VARIABLE = "AZURE_OPENAI_PROXY_METRICS";

const ON = ["on", "true", "1", "yes"];
const OFF = ["off", "false", "0", "no"];

/**
 * `AZURE_OPENAI_PROXY_METRICS`: `on` (the default: `/metrics` on the main port), `off`, or
 * `host:port` for a separate listener (e.g. `127.0.0.1:9464`, so only the node's scraper
 * reaches it). A bad value adds a problem naming the variable.
 */
export function parseMetricsSetting(raw: string | undefined, problems: string[]): MetricsSetting {
  const text = raw?.trim().toLowerCase() ?? "";
  if (text === "" || ON.includes(text)) return { kind: "main" };
  if (OFF.includes(text)) return { kind: "off" };
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(raw?.trim() ?? "");
  const port = Number(match?.[3]);
  if (match === null || port > 65535) {
    problems.push(
      `${METRICS_VARIABLE}: must be on, off or host:port for a separate listener (e.g. 127.0.0.1:9464), got "${raw}"`,
    );
    return { kind: "main" };
  }
  return { kind: "listener", host: match[1] ?? (match[2] || "0.0.0.0"), port };
}
