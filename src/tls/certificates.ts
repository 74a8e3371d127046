/**
 * The proxy's own TLS certificate, loaded from PEM files and replaced for new connections when
 * the files change (cert-manager, Let's Encrypt renewals): connections already open keep the
 * certificate they started with and are never dropped.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { type FSWatcher, watch } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { createSecureContext, type SecureContext, type Server as TlsServer } from "node:tls";
import type { TlsFiles } from "../config/tls.ts";

/** A certificate and key that cannot be served; the message names the files and the fault. */
export class TlsFilesError extends Error {
  constructor(files: TlsFiles, detail: string) {
    super(`TLS certificate ${files.certFile} with key ${files.keyFile}: ${detail}`);
    this.name = "TlsFilesError";
  }
}

/** One loaded, checked certificate and key. */
export interface CertificatePair {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly context: SecureContext;
  readonly subject: string;
  /** When it stops being valid, as the certificate says it (e.g. "Mar  4 12:00:00 2027 GMT"). */
  readonly validTo: string;
  readonly fingerprint256: string;
}

/** Reads and checks a PEM certificate (chain) and its key; throws TlsFilesError. */
export async function loadCertificatePair(files: TlsFiles): Promise<CertificatePair> {
  let cert: Buffer;
  let key: Buffer;
  try {
    [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
  } catch (error) {
    throw new TlsFilesError(files, `cannot read: ${(error as Error).message}`);
  }
  return checkPair(files, cert, key);
}

function checkPair(files: TlsFiles, cert: Buffer, key: Buffer): CertificatePair {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (error) {
    throw new TlsFilesError(
      files,
      `the certificate is not PEM X.509 (${(error as Error).message})`,
    );
  }
  try {
    // A rotation that has replaced one file but not yet the other is caught here.
    if (!x509.checkPrivateKey(createPrivateKey(key))) {
      throw new TlsFilesError(files, "the key does not belong to the certificate");
    }
    const context = createSecureContext({ cert, key });
    return {
      cert,
      key,
      context,
      subject: x509.subject,
      validTo: x509.validTo,
      fingerprint256: x509.fingerprint256,
    };
  } catch (error) {
    if (error instanceof TlsFilesError) throw error;
    throw new TlsFilesError(files, `the key cannot be used (${(error as Error).message})`);
  }
}

export interface ServedCertificateOptions {
  /** Besides watching, re-read the files this often (default 60 s): some volumes send no events. */
  readonly pollMs?: number;
  /** Wait this long after a change event for the rest of a rotation (default 100 ms). */
  readonly settleMs?: number;
  readonly onReload?: (pair: CertificatePair) => void;
  /** A changed pair that cannot be served; the previous one stays in use. */
  readonly onError?: (error: TlsFilesError) => void;
}

/**
 * The certificate the proxy serves. Give `serverOptions()` to `https.createServer` and the
 * server to `serve()`: every new connection then gets the newest valid pair, whether the client
 * sends SNI (SNICallback) or not (setSecureContext).
 */
export class ServedCertificate {
  readonly files: TlsFiles;
  private pair: CertificatePair;
  private readonly options: ServedCertificateOptions;
  private readonly servers = new Set<TlsServer>();
  private readonly watchers: FSWatcher[] = [];
  private poll: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private reloading: Promise<boolean> = Promise.resolve(false);

  private constructor(files: TlsFiles, pair: CertificatePair, options: ServedCertificateOptions) {
    this.files = files;
    this.pair = pair;
    this.options = options;
  }

  /** Loads the pair (throws TlsFilesError when it cannot be served) and starts watching it. */
  static async load(
    files: TlsFiles,
    options: ServedCertificateOptions = {},
  ): Promise<ServedCertificate> {
    const served = new ServedCertificate(files, await loadCertificatePair(files), options);
    served.watch();
    return served;
  }

  get current(): CertificatePair {
    return this.pair;
  }

  /** For `https.createServer(...)` (also `http2.createSecureServer`). */
  serverOptions(): {
    cert: Buffer;
    key: Buffer;
    SNICallback: (
      servername: string,
      done: (error: Error | null, context?: SecureContext) => void,
    ) => void;
  } {
    return {
      cert: this.pair.cert,
      key: this.pair.key,
      SNICallback: (_servername, done) => done(null, this.pair.context),
    };
  }

  /** New connections to `server` get every future pair. */
  serve(server: TlsServer): void {
    this.servers.add(server);
    server.once("close", () => this.servers.delete(server));
  }

  /** Re-reads the files; true when a new pair is now served. Reloads run one at a time. */
  reload(): Promise<boolean> {
    this.reloading = this.reloading.then(() => this.reloadOnce());
    return this.reloading;
  }

  close(): void {
    for (const watcher of this.watchers.splice(0)) watcher.close();
    clearInterval(this.poll);
    clearTimeout(this.settle);
  }

  private async reloadOnce(): Promise<boolean> {
    let cert: Buffer;
    let key: Buffer;
    try {
      [cert, key] = await Promise.all([
        readFile(this.files.certFile),
        readFile(this.files.keyFile),
      ]);
    } catch (error) {
      // Mid-rotation a file can be briefly missing; the next event or poll tries again.
      this.options.onError?.(
        new TlsFilesError(this.files, `cannot read: ${(error as Error).message}`),
      );
      return false;
    }
    if (cert.equals(this.pair.cert) && key.equals(this.pair.key)) return false;
    let pair: CertificatePair;
    try {
      pair = checkPair(this.files, cert, key);
    } catch (error) {
      this.options.onError?.(error as TlsFilesError);
      return false;
    }
    this.pair = pair;
    for (const server of this.servers) server.setSecureContext({ cert, key });
    this.options.onReload?.(pair);
    return true;
  }

  private watch(): void {
    // Directories, not files: Kubernetes and most renewal tools replace files (or a symlink)
    // rather than write into them, which a watch on the old file would never see.
    const dirs = new Set([dirname(this.files.certFile), dirname(this.files.keyFile)]);
    for (const dir of dirs) {
      try {
        const watcher = watch(dir, { persistent: false }, () => this.soon());
        watcher.on("error", () => watcher.close());
        this.watchers.push(watcher);
      } catch {
        // Polling below still notices changes.
      }
    }
    this.poll = setInterval(() => void this.reload(), this.options.pollMs ?? 60_000);
    this.poll.unref();
  }

  private soon(): void {
    clearTimeout(this.settle);
    this.settle = setTimeout(() => void this.reload(), this.options.settleMs ?? 100);
    this.settle.unref();
  }
}
