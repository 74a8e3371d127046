import type { EntraAuth, EntraCredentialKind } from "../config/entra.ts";
import { createEntraCredential, type TokenSource } from "./entra-credential.ts";
import { EntraTokenCache, type EntraTokenStatus, type TokenCacheOptions } from "./token-cache.ts";

/** /healthz's `auth` part. */
export type AuthStatus =
  | { readonly auth: "key" }
  | { readonly auth: "entra"; readonly tokens: readonly EntraTokenStatus[] };

export interface EntraTokensOptions
  extends Partial<Omit<TokenCacheOptions, "credential" | "scope" | "source">> {
  /** Builds a credential (default: `@azure/identity`, loaded on first use). */
  readonly createCredential?: (kind: EntraCredentialKind) => Promise<TokenSource>;
}

/**
 * Every Entra token the proxy needs: one cache per (credential, scope), shared by all the
 * resources that use the same pair, and one credential object per kind.
 */
export class EntraTokens {
  private readonly caches = new Map<string, EntraTokenCache>();
  /** The same lookup by the resource's own object, so a request builds no key string. */
  private readonly byAuth = new WeakMap<EntraAuth, EntraTokenCache>();
  private readonly credentials = new Map<EntraCredentialKind, Promise<TokenSource>>();
  private readonly options: EntraTokensOptions;
  private started = false;

  constructor(
    resources: Iterable<{ readonly entra?: EntraAuth | undefined }>,
    options: EntraTokensOptions = {},
  ) {
    this.options = options;
    this.track(resources);
  }

  /** The token cache for one resource's Entra auth. */
  for(entra: EntraAuth): EntraTokenCache {
    const known = this.byAuth.get(entra);
    if (known !== undefined) return known;
    const key = `${entra.credential} ${entra.scope}`;
    let cache = this.caches.get(key);
    if (cache === undefined) {
      const { createCredential: _, ...cacheOptions } = this.options;
      cache = new EntraTokenCache({
        ...cacheOptions,
        credential: entra.credential,
        scope: entra.scope,
        source: () => this.credential(entra.credential),
      });
      this.caches.set(key, cache);
      if (this.started) cache.start();
    }
    this.byAuth.set(entra, cache);
    return cache;
  }

  /** Adds the caches a new set of resources needs (a reloaded configuration file). */
  track(resources: Iterable<{ readonly entra?: EntraAuth | undefined }>): void {
    for (const resource of resources) if (resource.entra) this.for(resource.entra);
  }

  /** True when no resource uses Entra ID. */
  get empty(): boolean {
    return this.caches.size === 0;
  }

  /** Fetches every first token in the background. */
  start(): void {
    this.started = true;
    for (const cache of this.caches.values()) cache.start();
  }

  /** Every token has been had (what /readyz waits for). */
  get ready(): boolean {
    for (const cache of this.caches.values()) if (!cache.ready) return false;
    return true;
  }

  /** What the first token that is not ready last failed with, if anything. */
  lastError(): string | null {
    for (const cache of this.caches.values()) {
      if (!cache.ready) return cache.status().lastError;
    }
    return null;
  }

  status(): AuthStatus {
    if (this.caches.size === 0) return { auth: "key" };
    return { auth: "entra", tokens: [...this.caches.values()].map((cache) => cache.status()) };
  }

  close(): void {
    for (const cache of this.caches.values()) cache.close();
  }

  private credential(kind: EntraCredentialKind): Promise<TokenSource> {
    let credential = this.credentials.get(kind);
    if (credential === undefined) {
      const create = this.options.createCredential ?? createEntraCredential;
      credential = create(kind);
      // A credential that could not be built (missing variables) is built again next time.
      credential.catch(() => this.credentials.delete(kind));
      this.credentials.set(kind, credential);
    }
    return credential;
  }
}
