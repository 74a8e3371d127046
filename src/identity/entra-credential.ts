import type { AccessToken, TokenCredential } from "@azure/identity";
import type { EntraCredentialKind } from "../config/entra.ts";

/** What the token cache needs from a credential: `@azure/identity`'s `getToken`. */
export interface TokenSource {
  getToken(
    scopes: string | string[],
    options?: { abortSignal?: AbortSignal },
  ): Promise<AccessToken | null>;
}

type IdentityModule = typeof import("@azure/identity");

/**
 * Each credential kind, built from `@azure/identity`. They read their own environment variables
 * (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH,
 * AZURE_FEDERATED_TOKEN_FILE, IDENTITY_ENDPOINT, …), so the proxy has no settings of its own for them.
 */
const CREDENTIALS: Record<EntraCredentialKind, (identity: IdentityModule) => TokenCredential> = {
  // Service principal, workload identity, managed identity, Azure CLI, Azure Developer CLI…
  default: (identity) => new identity.DefaultAzureCredential(),
  // System-assigned, or user-assigned when AZURE_CLIENT_ID names it.
  "managed-identity": (identity) =>
    new identity.ManagedIdentityCredential({ clientId: process.env.AZURE_CLIENT_ID || undefined }),
  // Kubernetes: AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE set by the webhook.
  "workload-identity": (identity) => new identity.WorkloadIdentityCredential(),
  // A service principal from AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET
  // (or AZURE_CLIENT_CERTIFICATE_PATH): EnvironmentCredential reads exactly these.
  "client-secret": (identity) => new identity.EnvironmentCredential(),
  // Whoever is signed in with `az login` (development).
  cli: (identity) => new identity.AzureCliCredential(),
};

/**
 * The credential of one kind. `@azure/identity` (and MSAL under it) is loaded here, on first use,
 * so a proxy that uses keys never pays its start-up cost.
 */
export async function createEntraCredential(kind: EntraCredentialKind): Promise<TokenSource> {
  const identity = await import("@azure/identity");
  return CREDENTIALS[kind](identity);
}
