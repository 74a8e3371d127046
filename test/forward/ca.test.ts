import assert from "node:assert/strict";
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { connect, createServer } from "node:tls";
import { promisify } from "node:util";
import {
  CA_NAME,
  type CertificateAuthority,
  CertificateAuthorityError,
  loadCertificateAuthority,
} from "../../src/forward/ca.ts";

const execFileAsync = promisify(execFile);
const dirs: string[] = [];
function freshDir(): string {
  const dir = join(mkdtempSync(join(tmpdir(), "oai-ca-")), "ca");
  dirs.push(dir);
  return dir;
}

/** A TLS handshake as a client trusting only `caPem` would do it: the peer's verdict. */
async function handshake(
  ca: CertificateAuthority,
  caPem: string,
  servername: string,
): Promise<{ authorized: boolean; error: string | undefined; subject: string | undefined }> {
  const server = createServer({ SNICallback: ca.sniCallback }, (socket) => socket.end());
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((resolve, reject) => {
      const socket = connect({
        host: "127.0.0.1",
        port,
        servername,
        ca: caPem,
        rejectUnauthorized: false,
      });
      socket.once("secureConnect", () => {
        resolve({
          authorized: socket.authorized,
          error: socket.authorizationError?.toString(),
          subject: String(socket.getPeerCertificate().subject?.CN),
        });
        socket.destroy();
      });
      socket.once("error", reject);
    });
  } finally {
    server.close();
  }
}

describe("the local certificate authority", () => {
  it("is made at the first start, with its key readable by its owner only", async () => {
    const dir = freshDir();
    const ca = await loadCertificateAuthority({ dir, hosts: ["api.openai.com"] });
    assert.equal(ca.origin, "made");
    assert.equal(ca.certificatePath, join(dir, "ca.pem"));
    assert.equal(readFileSync(ca.certificatePath, "utf8"), ca.certificatePem);
    assert.equal(statSync(join(dir, "ca-key.pem")).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(ca.warnings, []);
    const text = execFileSync("openssl", ["x509", "-noout", "-text"], {
      input: ca.certificatePem,
    }).toString();
    assert.match(text, new RegExp(`Subject: CN ?= ?${CA_NAME}`));
    assert.match(text, /ecdsa-with-SHA256/);
    assert.match(text, /X509v3 Name Constraints: critical\s+Permitted:\s+DNS:api\.openai\.com/);
  });

  it("is the same certificate after a restart", async () => {
    const dir = freshDir();
    const first = await loadCertificateAuthority({ dir, hosts: ["api.openai.com"] });
    const second = await loadCertificateAuthority({ dir, hosts: ["api.openai.com"] });
    assert.equal(second.origin, "kept");
    assert.equal(second.certificatePem, first.certificatePem);
  });

  it("is made once when two processes start at the same moment", async () => {
    const dir = freshDir();
    const [a, b] = await Promise.all([
      loadCertificateAuthority({ dir, hosts: ["api.openai.com"] }),
      loadCertificateAuthority({ dir, hosts: ["api.openai.com"] }),
    ]);
    assert.equal(a.certificatePem, b.certificatePem);
    assert.equal(readFileSync(join(dir, "ca.pem"), "utf8"), a.certificatePem);
  });

  it("signs a certificate for api.openai.com that a client trusting the CA accepts (name constraints included)", async () => {
    const ca = await loadCertificateAuthority({ dir: freshDir(), hosts: ["api.openai.com"] });
    const verdict = await handshake(ca, ca.certificatePem, "api.openai.com");
    assert.deepEqual(verdict, { authorized: true, error: undefined, subject: "api.openai.com" });
  });

  it("is checked by OpenSSL's own verifier as curl and Python use it", async () => {
    const dir = freshDir();
    const ca = await loadCertificateAuthority({ dir, hosts: ["api.openai.com"] });
    const server = createServer({ SNICallback: ca.sniCallback }, (socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      // Asynchronously: this process must go on serving the handshake.
      const run = await execFileAsync(
        "openssl",
        [
          "s_client",
          "-connect",
          `127.0.0.1:${port}`,
          "-servername",
          "api.openai.com",
          "-verify_hostname",
          "api.openai.com",
          "-CAfile",
          ca.certificatePath,
          "-x509_strict",
        ],
        { encoding: "utf8", timeout: 10_000 },
      );
      assert.match(run.stdout, /Verify return code: 0 \(ok\)/);
    } finally {
      server.close();
    }
  });

  it("limits the harm of a stolen CA key: OpenSSL refuses its certificate for any other host", async () => {
    const dir = freshDir();
    await loadCertificateAuthority({ dir, hosts: ["api.openai.com"] });
    const at = (name: string) => join(dir, name);
    const openssl = (...args: string[]) =>
      spawnSync("openssl", args, { encoding: "utf8", cwd: dir });
    openssl(
      "req",
      "-new",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-subj",
      "/CN=example.com",
      "-addext",
      "subjectAltName=DNS:example.com",
      "-keyout",
      at("evil.key"),
      "-out",
      at("evil.csr"),
    );
    openssl(
      "x509",
      "-req",
      "-in",
      at("evil.csr"),
      "-CA",
      at("ca.pem"),
      "-CAkey",
      at("ca-key.pem"),
      "-days",
      "1",
      "-copy_extensions",
      "copy",
      "-out",
      at("evil.pem"),
    );
    const verify = openssl("verify", "-CAfile", at("ca.pem"), at("evil.pem"));
    assert.notEqual(verify.status, 0);
    assert.match(verify.stdout + verify.stderr, /permitted subtree violation/);
  });

  it("makes no certificate for a host that is not intercepted", async () => {
    const ca = await loadCertificateAuthority({ dir: freshDir(), hosts: ["api.openai.com"] });
    assert.equal(ca.secureContextFor("example.com"), undefined);
    await assert.rejects(handshake(ca, ca.certificatePem, "example.com"));
  });

  it("refuses to start with a kept CA whose name constraints leave out an intercepted host", async () => {
    const dir = freshDir();
    await loadCertificateAuthority({ dir, hosts: ["api.openai.com"] });
    await assert.rejects(
      loadCertificateAuthority({ dir, hosts: ["api.openai.com", "api.example.org"] }),
      (error: unknown) =>
        error instanceof CertificateAuthorityError &&
        /may only sign for api\.openai\.com, not for api\.example\.org/.test(error.message) &&
        /remove ca\.pem and ca-key\.pem/.test(error.message),
    );
  });

  it("uses the operator's own CA (here RSA, made with openssl) when ca.pem and ca-key.pem are there", async () => {
    const dir = freshDir();
    execFileSync("mkdir", ["-p", dir]);
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "30",
        "-subj",
        "/CN=Operator CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
        "-keyout",
        join(dir, "ca-key.pem"),
        "-out",
        join(dir, "ca.pem"),
      ],
      { stdio: "ignore" },
    );
    chmodSync(join(dir, "ca-key.pem"), 0o644);
    const ca = await loadCertificateAuthority({ dir, hosts: ["api.openai.com"] });
    assert.equal(ca.origin, "operator");
    // A key file others can read is used, and the operator is told.
    assert.match(ca.warnings.join("\n"), /ca-key\.pem can be read by other users .*chmod 600/);
    const verdict = await handshake(
      ca,
      readFileSync(join(dir, "ca.pem"), "utf8"),
      "api.openai.com",
    );
    assert.equal(verdict.authorized, true);
  });

  it("says which file is missing when only one of the pair is there", async () => {
    const dir = freshDir();
    const made = await loadCertificateAuthority({ dir, hosts: ["api.openai.com"] });
    const other = freshDir();
    execFileSync("mkdir", ["-p", other]);
    writeFileSync(join(other, "ca.pem"), made.certificatePem);
    await assert.rejects(
      loadCertificateAuthority({ dir: other, hosts: ["api.openai.com"] }),
      /ca\.pem is there but .*ca-key\.pem is not/,
    );
  });

  it("names a file that is not what it should be", async () => {
    const dir = freshDir();
    await loadCertificateAuthority({ dir, hosts: ["api.openai.com"] });
    writeFileSync(
      join(dir, "ca-key.pem"),
      "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n",
    );
    await assert.rejects(
      loadCertificateAuthority({ dir, hosts: ["api.openai.com"] }),
      (error: unknown) =>
        error instanceof CertificateAuthorityError &&
        error.message.startsWith(
          `${join(dir, "ca-key.pem")} is not an unencrypted PEM private key`,
        ),
    );
    writeFileSync(join(dir, "ca.pem"), "not a certificate");
    await assert.rejects(
      loadCertificateAuthority({ dir, hosts: ["api.openai.com"] }),
      (error: unknown) =>
        error instanceof CertificateAuthorityError &&
        error.message.startsWith(`${join(dir, "ca.pem")} is not a PEM certificate`),
    );
  });

  it("refuses a key that does not belong to the certificate", async () => {
    const a = freshDir();
    const b = freshDir();
    await loadCertificateAuthority({ dir: a, hosts: ["api.openai.com"] });
    await loadCertificateAuthority({ dir: b, hosts: ["api.openai.com"] });
    writeFileSync(join(b, "ca-key.pem"), readFileSync(join(a, "ca-key.pem")));
    await assert.rejects(
      loadCertificateAuthority({ dir: b, hosts: ["api.openai.com"] }),
      /is not the private key of/,
    );
  });

  it("loads its certificate library only when asked for a CA", () => {
    const script = `
      const { createRequire } = await import("node:module");
      const cache = createRequire(import.meta.url).cache;
      const loaded = () => Object.keys(cache).some((p) => p.includes("@peculiar"));
      await import(${JSON.stringify(new URL("../../src/forward/forward-proxy.ts", import.meta.url).href)});
      const { loadCertificateAuthority } = await import(${JSON.stringify(new URL("../../src/forward/ca.ts", import.meta.url).href)});
      const before = loaded();
      await loadCertificateAuthority({ dir: ${JSON.stringify(freshDir())}, hosts: ["api.openai.com"] });
      console.log(JSON.stringify({ before, after: loaded() }));
    `;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { before: false, after: true });
  });
});

after(() => {
  for (const dir of dirs) spawnSync("rm", ["-rf", join(dir, "..")]);
});
