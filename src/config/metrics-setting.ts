import type { Parsed } from "./parsed.ts";

/** Where `/metrics` is served: on the main port, not at all, or on a listener of its own. */
export type MetricsSetting =
  | { readonly kind: "main" }
  | { readonly kind: "off" }
  | { readonly kind: "listener"; readonly host: string; readonly port: number };

const ON = ["on", "true", "1", "yes"];
const OFF = ["off", "false", "0", "no"];

/**
 * `AZURE_OPENAI_PROXY_METRICS`: `on` (`/metrics` on the main port), `off`, or `host:port` for a
 * separate listener (e.g. `127.0.0.1:9464`, so only the node's scraper reaches it).
 */
export function parseMetricsSetting(raw: string): Parsed<MetricsSetting> {
  const text = raw.trim().toLowerCase();
  if (ON.includes(text)) return { value: { kind: "main" } };
  if (OFF.includes(text)) return { value: { kind: "off" } };
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(raw.trim());
  const port = Number(match?.[3]);
  if (match === null || port > 65535) {
    return {
      problems: [
        `must be on, off or host:port for a separate listener (e.g. 127.0.0.1:9464), got "${raw}"`,
      ],
    };
  }
  return { value: { kind: "listener", host: match[1] ?? (match[2] || "0.0.0.0"), port } };
}
