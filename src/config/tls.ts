/**
 * The proxy's own HTTPS: a PEM certificate (chain) and its private key, from
 * AZURE_OPENAI_PROXY_TLS_CERT + AZURE_OPENAI_PROXY_TLS_KEY or the configuration file's `tls:`.
 * Whether the files can be read is checked when they are loaded (src/tls/certificates.ts).
 */
import { isAbsolute, resolve } from "node:path";

export interface TlsFiles {
  /** PEM: the server certificate, then any intermediates. */
  readonly certFile: string;
  /** PEM: its private key (unencrypted). */
  readonly keyFile: string;
}

/** The TLS files named by the environment: both variables or neither. */
export function readTlsSettings(
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): TlsFiles | undefined {
  const cert = env.AZURE_OPENAI_PROXY_TLS_CERT?.trim() || undefined;
  const key = env.AZURE_OPENAI_PROXY_TLS_KEY?.trim() || undefined;
  return pair(
    { name: "AZURE_OPENAI_PROXY_TLS_CERT", value: cert },
    { name: "AZURE_OPENAI_PROXY_TLS_KEY", value: key },
    problems,
  );
}

/**
 * The configuration file's `tls: { cert, key }`; relative paths are relative to the file's
 * directory, so the file means the same whatever the working directory.
 */
export function parseTlsSection(
  raw: unknown,
  fileDir: string,
  problems: string[],
): TlsFiles | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== "object" || Array.isArray(raw)) {
    problems.push("tls: must be a mapping with cert and key (PEM file paths)");
    return undefined;
  }
  const record = raw as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== "cert" && key !== "key")
      problems.push(`tls.${key}: unknown field (expected cert, key)`);
  }
  const path = (value: unknown) => {
    if (value === undefined || value === null || value === "") return undefined;
    const text = String(value);
    return isAbsolute(text) ? text : resolve(fileDir, text);
  };
  return pair(
    { name: "tls.cert", value: path(record.cert) },
    { name: "tls.key", value: path(record.key) },
    problems,
  );
}

function pair(
  cert: { name: string; value: string | undefined },
  key: { name: string; value: string | undefined },
  problems: string[],
): TlsFiles | undefined {
  if (cert.value === undefined && key.value === undefined) return undefined;
  if (cert.value === undefined) {
    problems.push(`${cert.name}: required with ${key.name} (the PEM certificate for HTTPS)`);
    return undefined;
  }
  if (key.value === undefined) {
    problems.push(`${key.name}: required with ${cert.name} (the PEM private key for HTTPS)`);
    return undefined;
  }
  return { certFile: cert.value, keyFile: key.value };
}
