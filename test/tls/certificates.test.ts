import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { createServer, get, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { TLSSocket } from "node:tls";
import type { TlsFiles } from "../../src/config/tls.ts";
import {
  type CertificatePair,
  ServedCertificate,
  TlsFilesError,
} from "../../src/tls/certificates.ts";
import {
  issueCertificate,
  makeTestCa,
  type TestCa,
  type TestCertificate,
} from "../helpers/test-certificates.ts";

let ca: TestCa;
let first: TestCertificate;
let second: TestCertificate;

/** The files a deployment mounts: the tests replace them the way renewal tools do. */
function liveFiles(from: TestCertificate): TlsFiles {
  const dir = mkdtempSync(join(tmpdir(), "live-tls-"));
  const files = { certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key") };
  copyFileSync(from.certFile, files.certFile);
  copyFileSync(from.keyFile, files.keyFile);
  return files;
}

/** Writes beside the file and renames over it, as cert-manager and certbot do. */
function replace(file: string, content: string): void {
  writeFileSync(`${file}.tmp`, content);
  renameSync(`${file}.tmp`, file);
}

interface Answer {
  readonly body: string;
  readonly fingerprint: string;
}

/** One request on a new connection; `sni` sends a server name (SNICallback) or not (IP only). */
function request(
  port: number,
  path: string,
  sni: boolean,
  onFirstChunk?: () => void,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = get(
      {
        host: "127.0.0.1",
        port,
        path,
        ca: ca.pem,
        agent: false,
        ...(sni ? { servername: "localhost" } : {}),
      },
      (res) => {
        const fingerprint =
          (res.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256 ?? "";
        let body = "";
        let firstChunk = true;
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
          if (firstChunk) onFirstChunk?.();
          firstChunk = false;
        });
        res.on("end", () => resolve({ body, fingerprint }));
      },
    );
    req.on("error", reject);
  });
}

async function serve(served: ServedCertificate): Promise<{ server: Server; port: number }> {
  const server = createServer(served.serverOptions(), (req, res) => {
    if (req.url === "/stream") {
      // Ten chunks, 60 ms apart: long enough to rotate the certificate in the middle.
      let n = 0;
      const timer = setInterval(() => {
        n += 1;
        res.write(`chunk ${n}\n`);
        if (n === 10) {
          clearInterval(timer);
          res.end();
        }
      }, 60);
      return;
    }
    res.end("ok");
  });
  served.serve(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

describe("the proxy's own TLS certificate", () => {
  before(() => {
    ca = makeTestCa();
    first = issueCertificate(ca);
    second = issueCertificate(ca);
  });
  const opened: ServedCertificate[] = [];
  after(() => {
    for (const served of opened) served.close();
  });

  it("serves the PEM certificate over HTTPS, with and without SNI", async () => {
    const served = await ServedCertificate.load(liveFiles(first));
    opened.push(served);
    const { server, port } = await serve(served);
    const withSni = await request(port, "/", true);
    const withoutSni = await request(port, "/", false);
    assert.equal(withSni.body, "ok");
    assert.equal(withSni.fingerprint, served.current.fingerprint256);
    assert.equal(withoutSni.fingerprint, served.current.fingerprint256);
    assert.match(served.current.subject, /CN=localhost/);
    await stop(server);
  });

  it("refuses a key that does not belong to the certificate, naming both files", async () => {
    const files = { certFile: first.certFile, keyFile: second.keyFile };
    await assert.rejects(ServedCertificate.load(files), (error: unknown) => {
      assert.ok(error instanceof TlsFilesError);
      assert.ok(error.message.includes(first.certFile));
      assert.ok(error.message.includes(second.keyFile));
      assert.match(error.message, /the key does not belong to the certificate/);
      return true;
    });
  });

  it("says which file cannot be read", async () => {
    await assert.rejects(
      ServedCertificate.load({ certFile: "/nonexistent/tls.crt", keyFile: first.keyFile }),
      /TLS certificate \/nonexistent\/tls.crt .*cannot read: ENOENT/,
    );
  });

  it("serves a certificate swapped on disk to the next connection while an open stream finishes", async () => {
    const files = liveFiles(first);
    const reloaded: CertificatePair[] = [];
    let announce: () => void = () => {};
    const reloadSeen = new Promise<void>((resolve) => {
      announce = resolve;
    });
    const served = await ServedCertificate.load(files, {
      settleMs: 20,
      onReload: (pair) => {
        reloaded.push(pair);
        announce();
      },
    });
    opened.push(served);
    const oldFingerprint = served.current.fingerprint256;
    const { server, port } = await serve(served);

    let streaming: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      streaming = resolve;
    });
    const open = request(port, "/stream", false, () => streaming());
    await started;
    replace(files.keyFile, second.key);
    replace(files.certFile, second.cert);
    await reloadSeen;

    const viaIp = await request(port, "/", false);
    const viaName = await request(port, "/", true);
    const streamed = await open;
    assert.equal(reloaded.length, 1);
    assert.notEqual(served.current.fingerprint256, oldFingerprint);
    assert.equal(viaIp.fingerprint, served.current.fingerprint256);
    assert.equal(viaName.fingerprint, served.current.fingerprint256);
    assert.equal(streamed.fingerprint, oldFingerprint, "the open stream kept its connection");
    assert.equal(streamed.body.split("\n").filter(Boolean).length, 10);
    await stop(server);
  });

  it("keeps serving the old certificate while a rotation is half written", async () => {
    const files = liveFiles(first);
    const errors: string[] = [];
    const served = await ServedCertificate.load(files, {
      settleMs: 10_000,
      onError: (error) => errors.push(error.message),
    });
    opened.push(served);
    const oldFingerprint = served.current.fingerprint256;
    const { server, port } = await serve(served);

    replace(files.certFile, second.cert);
    assert.equal(await served.reload(), false);
    assert.match(errors[0] ?? "", /the key does not belong to the certificate/);
    assert.equal((await request(port, "/", false)).fingerprint, oldFingerprint);

    replace(files.keyFile, second.key);
    assert.equal(await served.reload(), true);
    assert.notEqual((await request(port, "/", false)).fingerprint, oldFingerprint);
    await stop(server);
  });
});
