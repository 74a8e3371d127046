/**
 * A throwaway certificate authority and server certificates for TLS tests, made with the
 * `openssl` command (EC P-256 keys: fast to generate).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCa {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA certificate (PEM), for a client's `ca` option or NODE_EXTRA_CA_CERTS. */
  readonly pem: string;
}

export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), "test-ca-"));
  openssl(
    [
      "req",
      "-x509",
      ...EC,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=azure-oai-proxy test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  return {
    dir,
    certFile: join(dir, "ca.pem"),
    keyFile: join(dir, "ca.key"),
    pem: readFileSync(join(dir, "ca.pem"), "utf8"),
  };
}

let serial = 0;

/** A server certificate for 127.0.0.1 and localhost signed by `ca`, written under `ca.dir`. */
export function issueCertificate(ca: TestCa, commonName = "localhost"): TestCertificate {
  serial += 1;
  const name = `server-${serial}`;
  writeFileSync(
    join(ca.dir, `${name}.ext`),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  openssl(
    [
      "req",
      "-new",
      ...EC,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${commonName}`,
    ],
    ca.dir,
  );
  openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-set_serial",
      String(1000 + serial),
      "-days",
      "2",
      "-out",
      `${name}.pem`,
      "-extfile",
      `${name}.ext`,
    ],
    ca.dir,
  );
  const certFile = join(ca.dir, `${name}.pem`);
  const keyFile = join(ca.dir, `${name}.key`);
  return {
    certFile,
    keyFile,
    cert: readFileSync(certFile, "utf8"),
    key: readFileSync(keyFile, "utf8"),
  };
}
