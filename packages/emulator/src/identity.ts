/**
 * An emulated Microsoft Entra ID token issuer, shaped like App Service's managed identity
 * endpoint (`GET $IDENTITY_ENDPOINT?api-version=2019-08-01&resource=…` with the
 * `X-IDENTITY-HEADER` secret), so `@azure/identity`'s ManagedIdentityCredential can be pointed at
 * it with IDENTITY_ENDPOINT + IDENTITY_HEADER. The emulator accepts the Bearer tokens it issued
 * until they expire or are rotated away. Tokens look like JWTs (header.payload.signature).
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** The path the emulator serves the identity endpoint on. */
export const IDENTITY_PATH = "/msi/token";
const API_VERSION = "2019-08-01";

export interface IdentityRequest {
  readonly resource: string | null;
  readonly clientId: string | null;
}

export class EmulatedIdentity {
  /** Set as IDENTITY_HEADER; requests without it are refused, as App Service does. */
  readonly secretHeader = randomBytes(12).toString("hex");
  /** Every token request that carried the secret, in order. */
  readonly requests: IdentityRequest[] = [];
  /** Every token issued, in order (rotated ones included). */
  readonly issued: string[] = [];
  /** Lifetime of the next tokens, in seconds. */
  ttlSeconds = 3600;
  /** Delay before the endpoint answers, in ms. */
  delayMs = 0;
  /** When set, the endpoint answers with this status and body instead of a token. */
  failure: { status: number; body: unknown } | undefined;
  readonly #valid = new Map<string, number>();
  #serial = 0;

  /** Issues a token for `resource` now (for credentials that do not call the endpoint, like `az`). */
  issue(resource: string, ttlSeconds = this.ttlSeconds): { token: string; expiresOn: number } {
    this.#serial += 1;
    const expiresOn = Math.floor(Date.now() / 1000) + ttlSeconds;
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const token = `${part({ alg: "none", typ: "JWT" })}.${part({ aud: resource, n: this.#serial, exp: expiresOn })}.${randomBytes(16).toString("base64url")}`;
    this.#valid.set(token, expiresOn * 1000);
    this.issued.push(token);
    return { token, expiresOn };
  }

  /** True for a token this issuer gave out that has neither expired nor been rotated away. */
  accepts(token: string): boolean {
    const expiresAt = this.#valid.get(token);
    return expiresAt !== undefined && Date.now() < expiresAt;
  }

  /** Revokes every token issued so far: Azure answers 401 to them until a new one is fetched. */
  rotate(): void {
    this.#valid.clear();
  }

  /** Answers one request to the identity endpoint. */
  answer(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.headers["x-identity-header"] !== this.secretHeader) {
      reply(401, {
        error: "invalid_request",
        error_description: "X-IDENTITY-HEADER is missing or wrong",
      });
      return;
    }
    if (url.searchParams.get("api-version") !== API_VERSION) {
      reply(400, {
        error: "invalid_request",
        error_description: `api-version must be ${API_VERSION}`,
      });
      return;
    }
    const resource = url.searchParams.get("resource");
    this.requests.push({ resource, clientId: url.searchParams.get("client_id") });
    setTimeout(() => {
      if (this.failure !== undefined) {
        reply(this.failure.status, this.failure.body);
        return;
      }
      const { token, expiresOn } = this.issue(resource ?? "");
      reply(200, {
        access_token: token,
        expires_on: String(expiresOn),
        resource,
        token_type: "Bearer",
        client_id: "00000000-0000-0000-0000-000000000000",
      });
    }, this.delayMs);
  }
}
