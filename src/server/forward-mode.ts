import type { Logger } from "pino";
import type { ForwardSettings } from "../config/forward.ts";
import { type CertificateAuthority, loadCertificateAuthority } from "../forward/ca.ts";

/**
 * Forward mode's start: the local CA loaded (or made at the first start), and one log line that
 * says where it is and how each kind of client trusts it.
 */
export async function loadForwardAuthority(
  settings: ForwardSettings,
  log: Logger,
): Promise<CertificateAuthority> {
  const authority = await loadCertificateAuthority({ dir: settings.caDir, hosts: settings.hosts });
  const path = authority.certificatePath;
  log.info(
    {
      ca: path,
      origin: authority.origin,
      intercepted: settings.hosts,
      tunnels: settings.tunnels.map((t) => `${t.host}:${t.port}`),
      trust: {
        node: `NODE_EXTRA_CA_CERTS=${path}`,
        openssl: `SSL_CERT_FILE=${path}`,
        python: `REQUESTS_CA_BUNDLE=${path}`,
        curl: `curl --cacert ${path}`,
      },
    },
    `forward mode on: set HTTPS_PROXY to this proxy and trust its CA ${path} (also served at GET /ca.pem)`,
  );
  for (const warning of authority.warnings) log.warn({ ca: path }, warning);
  return authority;
}
