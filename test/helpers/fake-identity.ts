/**
 * A fake Microsoft Entra ID token issuer on loopback, in the shape App Service gives managed
 * identity (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`, api-version 2019-08-01), and a fake `az` for
 * the Azure CLI credential. Tokens look like JWTs so tests can check none leaks.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface IssuedRequest {
  readonly resource: string | null;
  readonly clientId: string | null;
}

export interface FakeTokenIssuer {
  /** Set these as IDENTITY_ENDPOINT and IDENTITY_HEADER. */
  readonly endpoint: string;
  readonly secretHeader: string;
  /** Every token request that reached the issuer. */
  readonly requests: IssuedRequest[];
  /** Tokens issued, oldest first. */
  readonly issued: string[];
  /** Token lifetime in seconds for the next tokens. */
  ttlSeconds: number;
  /** Delay before answering, in ms. */
  delayMs: number;
  /** When set, answer with this status and body instead of a token. */
  failure: { status: number; body: unknown } | undefined;
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

export async function startFakeTokenIssuer(): Promise<FakeTokenIssuer> {
  const secretHeader = `secret-${Math.random().toString(36).slice(2)}`;
  const issuer: Omit<FakeTokenIssuer, "endpoint" | "env" | "close"> = {
    secretHeader,
    requests: [],
    issued: [],
    ttlSeconds: 3600,
    delayMs: 0,
    failure: undefined,
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.headers["x-identity-header"] !== secretHeader) {
      reply(401, { error: "invalid_request", error_description: "X-IDENTITY-HEADER is wrong" });
      return;
    }
    if (url.searchParams.get("api-version") !== "2019-08-01") {
      reply(400, { error: "invalid_request", error_description: "api-version must be 2019-08-01" });
      return;
    }
    const resource = url.searchParams.get("resource");
    issuer.requests.push({ resource, clientId: url.searchParams.get("client_id") });
    setTimeout(() => {
      if (issuer.failure !== undefined) {
        reply(issuer.failure.status, issuer.failure.body);
        return;
      }
      const token = fakeJwt(resource ?? "");
      issuer.issued.push(token);
      reply(200, {
        access_token: token,
        expires_on: String(Math.floor(Date.now() / 1000) + issuer.ttlSeconds),
        resource,
        token_type: "Bearer",
        client_id: "00000000-0000-0000-0000-000000000000",
      });
    }, issuer.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}/msi/token`;
  return Object.assign(issuer, {
    endpoint,
    env: () => ({ IDENTITY_ENDPOINT: endpoint, IDENTITY_HEADER: secretHeader }),
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
