/**
 * Azure OpenAI api-versions the proxy knows. The default is the newest dated version whose
 * inference spec has every deployment-scoped operation we route (chat, completions, embeddings,
 * images generations and edits, audio speech, transcriptions and translations) plus Responses,
 * Assistants and vector stores. Newer features ship in the v1 API (`AZURE_OPENAI_APIVERSION=v1`).
 */
export const DEFAULT_API_VERSION = "2025-04-01-preview";

/** The authoring version that still lists a resource's deployments (`GET /openai/deployments`). */
export const DEPLOYMENTS_LIST_API_VERSION = "2022-12-01";

export const DATED_API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

/**
 * Reads an api-version setting: a dated version selects the dated style; `v1` the v1 style with
 * no api-version; `preview` the v1 style with `api-version=preview`. Undefined when it is none.
 */
export function parseApiVersion(
  raw: string,
): { apiStyle: "dated" | "v1"; apiVersion: string } | undefined {
  const lower = raw.toLowerCase();
  if (lower === "v1") return { apiStyle: "v1", apiVersion: "" };
  if (lower === "preview") return { apiStyle: "v1", apiVersion: "preview" };
  if (DATED_API_VERSION.test(raw)) return { apiStyle: "dated", apiVersion: raw };
  return undefined;
}

export const API_VERSION_HELP = "YYYY-MM-DD or YYYY-MM-DD-preview, or v1, or preview";
