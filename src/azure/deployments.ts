import type { Agent } from "undici";
import { DEPLOYMENTS_LIST_API_VERSION } from "../config/api-versions.ts";
import {
  type DeploymentIndex,
  indexDeployments,
  type KnownDeployment,
} from "./deployment-index.ts";
import { getAzureJson } from "./get-json.ts";
import type { UpstreamCredential } from "./request.ts";

/** A deployment as Azure's listing reports it. */
export interface ListedDeployment extends KnownDeployment {
  /** Unix seconds. */
  readonly createdAt: number;
}

export interface DeploymentListing {
  readonly index: DeploymentIndex;
  readonly deployments: readonly ListedDeployment[];
}

interface CacheEntry {
  /** null: the resource does not let us list its deployments. */
  listing: DeploymentListing | null;
  fetchedAt: number;
  refreshing: Promise<DeploymentListing | null> | undefined;
  /** Why the last fetch failed, when it did. */
  problem?: ListingProblem | undefined;
}

/** Why a listing could not be had: Azure refused the credential, or could not be asked. */
export interface ListingProblem {
  readonly kind: "refused" | "unreachable";
  /** The status or connection error, for a message. */
  readonly detail: string;
}

/** A listing, or why there is none (no problem: the resource simply does not list). */
export interface ListingResult {
  readonly listing: DeploymentListing | null;
  readonly problem: ListingProblem | undefined;
}

const MAX_ENTRIES = 256;
const RETRY_AFTER_FAILURE_MS = 30_000;

/**
 * The resource's deployments, from Azure's authoring listing
 * (`GET /openai/deployments?api-version=2022-12-01`), cached per credential. A request never
 * waits for a refresh: a stale listing is served while a new one is fetched in the background.
 * Resources where the listing is retired answer 404; that is remembered as "not listable".
 */
export class DeploymentDirectory {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly agent: Agent;
  private readonly endpoint: string;
  private readonly ttlMs: number;
  private readonly timeoutMs: number;

  constructor(options: { agent: Agent; endpoint: string; ttlMs?: number; timeoutMs?: number }) {
    this.agent = options.agent;
    this.endpoint = options.endpoint;
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Starts fetching the listing for a credential, so the first requests need not wait. */
  prefetch(credential: UpstreamCredential): void {
    this.get(credential).catch(() => {});
  }

  /**
   * The listing for a credential; null when Azure does not list deployments. A cached listing is
   * returned at once (refreshed in the background when stale); with none cached yet, the first
   * caller waits for the fetch, at most `waitMs`, and gets null if it takes longer.
   */
  async get(
    credential: UpstreamCredential,
    waitMs = this.timeoutMs,
  ): Promise<DeploymentListing | null> {
    const key = cacheKey(credential);
    const entry = this.cache.get(key);
    if (entry !== undefined && entry.fetchedAt > 0) {
      if (Date.now() - entry.fetchedAt > this.ttlMs) this.refresh(key, credential).catch(() => {});
      return entry.listing;
    }
    const fetching = this.refresh(key, credential);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), waitMs);
    });
    try {
      return await Promise.race([fetching, gaveUp]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Like `get`, and says why there is no listing: Azure refused the credential or could not be
   * reached (or did not answer in `waitMs`). For answers that must not hide that, `/v1/models`.
   */
  async getWithProblem(
    credential: UpstreamCredential,
    waitMs = this.timeoutMs,
  ): Promise<ListingResult> {
    const listing = await this.get(credential, waitMs);
    if (listing !== null) return { listing, problem: undefined };
    const entry = this.cache.get(cacheKey(credential));
    if (entry?.problem !== undefined) return { listing, problem: entry.problem };
    if (entry?.refreshing !== undefined && entry.fetchedAt === 0) {
      return { listing, problem: { kind: "unreachable", detail: `no answer in ${waitMs} ms` } };
    }
    return { listing, problem: undefined };
  }

  private refresh(key: string, credential: UpstreamCredential): Promise<DeploymentListing | null> {
    const entry = this.cache.get(key);
    if (entry?.refreshing) return entry.refreshing;
    const refreshing = this.fetchListing(credential).then(
      (listing) => {
        if (typeof listing === "number") {
          // Refused: remembered only as a reason, so the next request asks again (the key may
          // have been fixed).
          const problem = { kind: "refused" as const, detail: `status ${listing}` };
          this.remember(key, { listing: null, fetchedAt: 0, refreshing: undefined, problem });
          return null;
        }
        this.remember(key, { listing, fetchedAt: Date.now(), refreshing: undefined });
        return listing;
      },
      (error: unknown) => {
        // Unreachable or garbled: keep serving what we had, and try again in a while rather
        // than on every request.
        const listing = this.cache.get(key)?.listing ?? null;
        const retryAt = Date.now() - this.ttlMs + RETRY_AFTER_FAILURE_MS;
        const problem = { kind: "unreachable" as const, detail: failureDetail(error) };
        this.remember(key, { listing, fetchedAt: retryAt, refreshing: undefined, problem });
        return listing;
      },
    );
    if (entry) entry.refreshing = refreshing;
    else this.remember(key, { listing: null, fetchedAt: 0, refreshing });
    return refreshing;
  }

  private remember(key: string, entry: CacheEntry): void {
    this.cache.delete(key);
    this.cache.set(key, entry);
    if (this.cache.size > MAX_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }

  private async fetchListing(
    credential: UpstreamCredential,
  ): Promise<DeploymentListing | null | 401 | 403> {
    const { status, body } = await getAzureJson(
      this.agent,
      `${this.endpoint}/openai/deployments?api-version=${DEPLOYMENTS_LIST_API_VERSION}`,
      credential,
      this.timeoutMs,
    );
    if (status === 401 || status === 403) return status;
    if (status !== 200) return null;
    const deployments = parseListing(JSON.parse(body.toString("utf8")));
    return { deployments, index: indexDeployments(deployments) };
  }
}

/**
 * The credential itself keys the cache: the process holds it for the request anyway, and a hash
 * per request cost more than the rest of the lookup (profiled).
 */
function cacheKey(credential: UpstreamCredential): string {
  return credential.cacheKey ?? credential.value;
}

/** A connection error's code (ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT…) or message; never a header. */
function failureDetail(error: unknown): string {
  const { code, cause, message } = (error ?? {}) as {
    code?: string;
    cause?: { code?: string };
    message?: string;
  };
  return (
    cause?.code ??
    code ??
    (error instanceof SyntaxError ? "not a JSON answer" : (message ?? "failed"))
  );
}

function parseListing(body: unknown): ListedDeployment[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return [];
  const out: ListedDeployment[] = [];
  for (const item of data) {
    const { id, model, created_at } = (item ?? {}) as Record<string, unknown>;
    if (typeof id !== "string" || id === "") continue;
    out.push({
      id,
      model: typeof model === "string" ? model : id,
      createdAt: typeof created_at === "number" ? created_at : 0,
    });
  }
  return out;
}
