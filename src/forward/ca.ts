import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  webcrypto,
} from "node:crypto";
import { link, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createSecureContext, type SecureContext } from "node:tls";
import type * as X509 from "@peculiar/x509";

/** The subject of the CA the proxy makes for itself; operators see it in their trust stores. */
export const CA_NAME = "azure-oai-proxy local CA";

export const CA_CERT_FILE = "ca.pem";
export const CA_KEY_FILE = "ca-key.pem";

/** The local certificate authority that signs a certificate for each intercepted host. */
export interface CertificateAuthority {
  /** The CA certificate, PEM: what clients trust (`NODE_EXTRA_CA_CERTS`, `curl --cacert`, …). */
  readonly certificatePem: string;
  /** Absolute path of `ca.pem`. */
  readonly certificatePath: string;
  /** made: created by this start; kept: made by an earlier start; operator: the operator's own. */
  readonly origin: "made" | "kept" | "operator";
  /** Things the operator should fix, for the start-up log (e.g. a key file others can read). */
  readonly warnings: readonly string[];
  /** The TLS context with the certificate for `host` (made once, then cached), or undefined
   * for a host that is not intercepted. */
  secureContextFor(host: string): SecureContext | undefined;
  /** For `SNICallback`: the context for the name the client asked for; renews an expiring one. */
  sniCallback(
    servername: string,
    done: (error: Error | null, context?: SecureContext) => void,
  ): void;
}

export interface CertificateAuthorityOptions {
  /** The folder of `ca.pem` and `ca-key.pem`; created (mode 0700) when missing. */
  readonly dir: string;
  /** Intercepted hosts: the CA made here is constrained to them, a kept one must allow them. */
  readonly hosts: readonly string[];
  readonly now?: () => Date;
}

/** A problem with the CA folder or files; the message says what to do. */
export class CertificateAuthorityError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CertificateAuthorityError";
  }
}

const DAY_MS = 86_400_000;
const CA_LIFETIME_MS = 10 * 365 * DAY_MS;
// Under the 398 days Apple and browsers accept for a server certificate; leaves are made at each
// start and renewed a day before they expire, so the figure only bounds a long-running process.
const LEAF_LIFETIME_MS = 397 * DAY_MS;
const RENEW_BEFORE_MS = DAY_MS;
// Clocks of clients and the proxy differ a little.
const BACKDATE_MS = 60 * 60_000;

/** Signature algorithms by CA key: the operator's own CA may be RSA or another curve. */
const SIGNING: Readonly<Record<string, webcrypto.EcKeyImportParams & { hash: string }>> = {
  "ec:prime256v1": { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" },
  "ec:secp384r1": { name: "ECDSA", namedCurve: "P-384", hash: "SHA-384" },
};
const RSA_SIGNING = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
const EC_P256 = { name: "ECDSA", namedCurve: "P-256" } as const;

type X509Module = typeof X509;
interface CertificateLibrary {
  readonly x509: X509Module;
  readonly asn1: typeof import("@peculiar/asn1-x509");
  readonly schema: typeof import("@peculiar/asn1-schema");
}

let loading: Promise<CertificateLibrary> | undefined;

/**
 * The certificate library, loaded on first use so that a proxy without forward mode never pays
 * for it (~180 ms to load, measured). `@peculiar/x509` needs a Reflect metadata polyfill, which
 * must be in place before it loads.
 */
function loadLibrary(): Promise<CertificateLibrary> {
  loading ??= (async () => {
    await import("reflect-metadata");
    const [x509, asn1, schema] = await Promise.all([
      import("@peculiar/x509"),
      import("@peculiar/asn1-x509"),
      import("@peculiar/asn1-schema"),
    ]);
    return { x509, asn1, schema };
  })();
  return loading;
}

/**
 * Loads the CA from `dir`, or makes one there at the first start, and makes a certificate for
 * each intercepted host. Refuses a CA whose name constraints leave out an intercepted host, since
 * clients would refuse its certificates.
 */
export async function loadCertificateAuthority(
  options: CertificateAuthorityOptions,
): Promise<CertificateAuthority> {
  const now = options.now ?? (() => new Date());
  const lib = await loadLibrary();
  const certificatePath = join(options.dir, CA_CERT_FILE);
  const keyPath = join(options.dir, CA_KEY_FILE);

  let stored = await readStored(certificatePath, keyPath);
  let origin: CertificateAuthority["origin"] = "kept";
  if (stored === undefined) {
    const made = await makeAuthority(lib, options.hosts, now());
    stored = await installAuthority(options.dir, certificatePath, keyPath, made);
    origin = stored.certificatePem === made.certificatePem ? "made" : "kept";
  }

  const certificate = parseFile(certificatePath, "a PEM certificate", () => {
    return new lib.x509.X509Certificate(stored.certificatePem);
  });
  if (origin === "kept" && certificate.subject !== `CN=${CA_NAME}`) origin = "operator";
  checkAuthority(lib, certificate, options.hosts, certificatePath, now());
  const privateKey = parseFile(keyPath, "an unencrypted PEM private key", () =>
    createPrivateKey(stored.keyPem),
  );
  const signing = await signingKey(privateKey, keyPath);
  if (!keyMatchesCertificate(certificate, privateKey)) {
    throw new CertificateAuthorityError(
      `${keyPath} is not the private key of ${certificatePath}; put the matching pair there, or remove both to have a new CA made`,
    );
  }

  const warnings: string[] = [];
  const keyMode = (await stat(keyPath)).mode & 0o777;
  if (process.platform !== "win32" && (keyMode & 0o077) !== 0) {
    warnings.push(
      `${keyPath} can be read by other users (mode ${keyMode.toString(8).padStart(4, "0")}); run chmod 600 on it`,
    );
  }

  const issuer = { certificate, signing };
  const leaves = new Map<string, { context: SecureContext; notAfter: number }>();
  for (const host of options.hosts) leaves.set(host, await makeLeaf(lib, issuer, host, now()));
  const renewing = new Map<string, Promise<void>>();

  const renew = (host: string): Promise<void> => {
    let pending = renewing.get(host);
    if (pending === undefined) {
      pending = makeLeaf(lib, issuer, host, now())
        .then((leaf) => {
          leaves.set(host, leaf);
        })
        .finally(() => renewing.delete(host));
      renewing.set(host, pending);
    }
    return pending;
  };

  return {
    certificatePem: stored.certificatePem,
    certificatePath,
    origin,
    warnings,
    secureContextFor: (host) => leaves.get(host)?.context,
    sniCallback(servername, done) {
      const host = servername.toLowerCase();
      const leaf = leaves.get(host);
      if (leaf === undefined) {
        done(
          new Error(`no certificate for ${JSON.stringify(servername)}: not an intercepted host`),
        );
        return;
      }
      if (leaf.notAfter - RENEW_BEFORE_MS > now().getTime()) {
        done(null, leaf.context);
        return;
      }
      renew(host).then(
        () => done(null, leaves.get(host)?.context),
        (error: unknown) => done(error as Error),
      );
    },
  };
}

/** Parses one of the CA's files; a file that is not what it should be is named in the error. */
function parseFile<T>(path: string, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new CertificateAuthorityError(`${path} is not ${what} (${(error as Error).message})`, {
      cause: error,
    });
  }
}

interface StoredAuthority {
  readonly certificatePem: string;
  readonly keyPem: string;
}

async function readStored(
  certificatePath: string,
  keyPath: string,
): Promise<StoredAuthority | undefined> {
  const [certificatePem, keyPem] = await Promise.all([
    readFile(certificatePath, "utf8").catch(ifMissing),
    readFile(keyPath, "utf8").catch(ifMissing),
  ]);
  if (certificatePem === undefined && keyPem === undefined) return undefined;
  if (certificatePem === undefined || keyPem === undefined) {
    const [present, missing] =
      certificatePem === undefined ? [keyPath, certificatePath] : [certificatePath, keyPath];
    throw new CertificateAuthorityError(
      `${present} is there but ${missing} is not; put both files of your CA there, or remove ${present} to have a new CA made`,
    );
  }
  return { certificatePem, keyPem };
}

function ifMissing(error: NodeJS.ErrnoException): undefined {
  if (error.code === "ENOENT") return undefined;
  throw new CertificateAuthorityError(`cannot read the CA: ${error.message}`, { cause: error });
}

/** A new CA: ECDSA P-256, constrained to the intercepted host names and to no IP address. */
async function makeAuthority(
  lib: CertificateLibrary,
  hosts: readonly string[],
  now: Date,
): Promise<StoredAuthority> {
  const { x509, asn1, schema } = lib;
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ["sign", "verify"]);
  const constraints = new asn1.NameConstraints({
    permittedSubtrees: new asn1.GeneralSubtrees(
      hosts.map(
        (host) => new asn1.GeneralSubtree({ base: new asn1.GeneralName({ dNSName: host }) }),
      ),
    ),
    // A permitted DNS subtree says nothing about IP addresses; exclude them all.
    excludedSubtrees: new asn1.GeneralSubtrees(
      ["0.0.0.0/0", "::/0"].map(
        (range) => new asn1.GeneralSubtree({ base: new asn1.GeneralName({ iPAddress: range }) }),
      ),
    ),
  });
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${CA_NAME}`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + CA_LIFETIME_MS),
    keys,
    signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      // Critical, as RFC 5280 asks: OpenSSL (curl, Node, Python), Go, Java, Windows and Apple
      // platforms all enforce DNS name constraints.
      new x509.Extension(
        asn1.id_ce_nameConstraints,
        true,
        schema.AsnConvert.serialize(constraints),
      ),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { certificatePem: certificate.toString("pem"), keyPem: pem("PRIVATE KEY", pkcs8) };
}

/**
 * Writes a new CA unless another process (a cluster worker starting at the same moment) got
 * there first: the key is put in place with link(), which fails when the file exists, and the
 * loser reads the winner's CA.
 */
async function installAuthority(
  dir: string,
  certificatePath: string,
  keyPath: string,
  made: StoredAuthority,
): Promise<StoredAuthority> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const suffix = `.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    const keyTemp = keyPath + suffix;
    const certTemp = certificatePath + suffix;
    await writeFile(keyTemp, made.keyPem, { mode: 0o600, flag: "wx" });
    await writeFile(certTemp, made.certificatePem, { mode: 0o644, flag: "wx" });
    try {
      await link(keyTemp, keyPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      return await waitForOther(certificatePath, keyPath);
    } finally {
      await rm(keyTemp, { force: true });
    }
    try {
      await link(certTemp, certificatePath);
    } finally {
      await rm(certTemp, { force: true });
    }
    return made;
  } catch (error) {
    if (error instanceof CertificateAuthorityError) throw error;
    throw new CertificateAuthorityError(
      `cannot write the CA to ${dir}: ${(error as Error).message} (set AZURE_OPENAI_PROXY_CA_DIR to a writable folder)`,
      { cause: error },
    );
  }
}

async function waitForOther(certificatePath: string, keyPath: string): Promise<StoredAuthority> {
  for (let i = 0; i < 50; i++) {
    const stored = await readStored(certificatePath, keyPath).catch(() => undefined);
    if (stored !== undefined) return stored;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return (await readStored(certificatePath, keyPath)) as StoredAuthority;
}

/** A CA that cannot sign for an intercepted host would make every client fail: refuse it now. */
function checkAuthority(
  lib: CertificateLibrary,
  certificate: X509.X509Certificate,
  hosts: readonly string[],
  certificatePath: string,
  now: Date,
): void {
  const basic = certificate.getExtension(lib.x509.BasicConstraintsExtension);
  if (basic?.ca !== true) {
    throw new CertificateAuthorityError(
      `${certificatePath} is not a CA certificate (basicConstraints CA:TRUE is missing)`,
    );
  }
  if (certificate.notAfter.getTime() <= now.getTime()) {
    throw new CertificateAuthorityError(
      `${certificatePath} expired on ${certificate.notAfter.toISOString()}; remove ca.pem and ca-key.pem to have a new CA made (clients must then trust the new one)`,
    );
  }
  const extension = certificate.getExtension(lib.asn1.id_ce_nameConstraints);
  if (extension === null) return;
  const constraints = lib.schema.AsnConvert.parse(extension.value, lib.asn1.NameConstraints);
  const dnsNames = (subtrees: readonly { base: { dNSName?: string } }[] | undefined) =>
    (subtrees ?? []).flatMap((s) => (s.base.dNSName ? [s.base.dNSName.toLowerCase()] : []));
  const permitted = dnsNames(constraints.permittedSubtrees);
  const excluded = dnsNames(constraints.excludedSubtrees);
  const refused = hosts.filter((host) => !dnsNamePermitted(host, permitted, excluded));
  if (refused.length > 0) {
    throw new CertificateAuthorityError(
      `the CA in ${certificatePath} may only sign for ${permitted.join(", ") || "no host"}, not for ${refused.join(", ")} (AZURE_OPENAI_PROXY_FORWARD_HOSTS); remove ca.pem and ca-key.pem to have a new CA made for these hosts (clients must then trust the new one)`,
    );
  }
}

/** RFC 5280 §4.2.1.10: a DNS constraint covers the name itself and every name below it. */
function dnsNamePermitted(
  host: string,
  permitted: readonly string[],
  excluded: readonly string[],
): boolean {
  const within = (base: string) => {
    const b = base.startsWith(".") ? base.slice(1) : base;
    return host === b || host.endsWith(`.${b}`);
  };
  if (excluded.some(within)) return false;
  return permitted.length === 0 || permitted.some(within);
}

interface Signer {
  readonly key: webcrypto.CryptoKey;
  readonly algorithm: webcrypto.Algorithm & { hash: string };
}

async function signingKey(privateKey: KeyObject, keyPath: string): Promise<Signer> {
  const type = privateKey.asymmetricKeyType;
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  const ec = SIGNING[`${type}:${curve}`];
  const algorithm = ec ?? (type === "rsa" ? RSA_SIGNING : undefined);
  if (algorithm === undefined) {
    throw new CertificateAuthorityError(
      `${keyPath}: a ${type}${curve ? ` (${curve})` : ""} key cannot sign here; use an ECDSA P-256/P-384 or RSA key`,
    );
  }
  const importAs = ec ? { name: ec.name, namedCurve: ec.namedCurve } : algorithm;
  const key = await webcrypto.subtle.importKey(
    "pkcs8",
    privateKey.export({ type: "pkcs8", format: "der" }),
    importAs,
    false,
    ["sign"],
  );
  return { key, algorithm: { name: algorithm.name, hash: algorithm.hash } };
}

/** The key belongs to the certificate when their public keys are the same. */
function keyMatchesCertificate(certificate: X509.X509Certificate, privateKey: KeyObject): boolean {
  const fromKey = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  return fromKey.equals(Buffer.from(certificate.publicKey.rawData));
}

/** A server certificate for one host, with a fresh ECDSA P-256 key, as a TLS context. */
async function makeLeaf(
  lib: CertificateLibrary,
  issuer: { certificate: X509.X509Certificate; signing: Signer },
  host: string,
  now: Date,
): Promise<{ context: SecureContext; notAfter: number }> {
  const { x509 } = lib;
  const keys = await webcrypto.subtle.generateKey(EC_P256, true, ["sign", "verify"]);
  const notAfter = Math.min(
    now.getTime() + LEAF_LIFETIME_MS,
    issuer.certificate.notAfter.getTime(),
  );
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${host}`,
    issuer: issuer.certificate.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(notAfter),
    publicKey: keys.publicKey,
    signingKey: issuer.signing.key,
    signingAlgorithm: issuer.signing.algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: host }]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      // Python 3.13's strict verification requires the authority key identifier.
      await authorityKeyIdentifier(lib, issuer.certificate),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  const context = createSecureContext({
    key: pem("PRIVATE KEY", pkcs8),
    cert: leaf.toString("pem"),
    minVersion: "TLSv1.2",
  });
  return { context, notAfter };
}

/** The CA's subject key identifier, or one computed from its key when it has none. */
async function authorityKeyIdentifier(
  lib: CertificateLibrary,
  certificate: X509.X509Certificate,
): Promise<X509.AuthorityKeyIdentifierExtension> {
  const { x509 } = lib;
  const ski = certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski !== null) return new x509.AuthorityKeyIdentifierExtension(ski.keyId);
  return x509.AuthorityKeyIdentifierExtension.create(certificate.publicKey);
}

/** 16 random bytes, positive as DER integers must be. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString("hex");
}

function pem(label: string, der: ArrayBuffer): string {
  const base64 = Buffer.from(der).toString("base64");
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
