import { type AzureError, azureErrors } from "./errors.ts";
import type { ApiStyle } from "./routes.ts";

const DATED_API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

/**
 * Checks the `api-version` query parameter as Azure does: the dated style needs one (its absence
 * looks like an unknown resource), the v1 style takes none or `preview`.
 */
export function checkApiVersion(
  style: ApiStyle,
  apiVersion: string | undefined,
): AzureError | undefined {
  if (style === "v1") {
    return apiVersion === undefined || apiVersion === "preview"
      ? undefined
      : azureErrors.apiVersionNotSupported();
  }
  if (apiVersion === undefined) return azureErrors.resourceNotFound();
  return DATED_API_VERSION.test(apiVersion) ? undefined : azureErrors.apiVersionNotSupported();
}
