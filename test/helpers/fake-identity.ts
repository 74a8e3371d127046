/**
 * Fakes for Microsoft Entra ID: the emulator's managed identity endpoint (App Service shape:
 * `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`) on a server of its own, and a fake `az` for the Azure
 * CLI credential. Tokens look like JWTs so tests can check none leaks.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmulatedIdentity, IDENTITY_PATH } from "@azure-oai-proxy/emulator";

export interface FakeTokenIssuer extends EmulatedIdentity {
  /** Set these as IDENTITY_ENDPOINT and IDENTITY_HEADER. */
  readonly endpoint: string;
  /** The environment that makes @azure/identity's ManagedIdentityCredential use this issuer. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

let serial = 0;

/** A token that looks like a JWT (header.payload.signature), unique per call. */
export function fakeJwt(label: string): string {
  serial += 1;
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part({ sub: label, n: serial, at: Date.now() })}.c2lnbmF0dXJl${serial}`;
}

/** The emulator's identity endpoint on a server of its own, for tests that need no emulator. */
export async function startFakeTokenIssuer(): Promise<FakeTokenIssuer> {
  const identity = new EmulatedIdentity();
  const server: Server = createServer((req, res) =>
    identity.answer(req, res, new URL(req.url ?? "/", "http://127.0.0.1")),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}${IDENTITY_PATH}`;
  return Object.assign(identity, {
    endpoint,
    env: () => ({ IDENTITY_ENDPOINT: endpoint, IDENTITY_HEADER: identity.secretHeader }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

export interface FakeAzureCli {
  /** Put this directory first on PATH. */
  readonly dir: string;
  /** The calls made so far, one argument line each. */
  calls(): string[];
  /** The next calls print this token (JWT-looking) valid for `ttlSeconds`. */
  issue(token: string, ttlSeconds: number): void;
  /** The next calls fail the way `az` does when nobody is signed in. */
  failNotLoggedIn(): void;
}

/** A fake `az` (a shell script) that answers `az account get-access-token` like Azure CLI 2.54+. */
export function createFakeAzureCli(): FakeAzureCli {
  const dir = mkdtempSync(join(tmpdir(), "fake-az-"));
  const log = join(dir, "calls.log");
  const answer = join(dir, "answer.sh");
  writeFileSync(log, "");
  writeFileSync(join(dir, "az"), `#!/bin/sh\necho "$*" >> "${log}"\n. "${answer}"\n`);
  chmodSync(join(dir, "az"), 0o755);
  const cli: FakeAzureCli = {
    dir,
    calls: () =>
      readFileSync(log, "utf8")
        .split("\n")
        .filter((line) => line !== ""),
    issue(token, ttlSeconds) {
      writeFileSync(
        answer,
        `now=$(date +%s)\nexp=$((now + ${ttlSeconds}))\nprintf '{"accessToken":"%s","expiresOn":"2099-01-01 00:00:00.000000","expires_on":%s,"subscription":"s","tenant":"t","tokenType":"Bearer"}\\n' "${token}" "$exp"\n`,
      );
    },
    failNotLoggedIn() {
      writeFileSync(answer, `echo "ERROR: Please run 'az login' to setup account." >&2\nexit 1\n`);
    },
  };
  cli.issue(fakeJwt("cli"), 3600);
  return cli;
}
