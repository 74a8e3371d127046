import { checkAdminAccess } from "../observe/admin-access.ts";
import { limitsUnavailable } from "../openai/errors.ts";
import type { ProxyContext } from "../proxy/context.ts";
import type { RouteHandler } from "../proxy/operation-handler.ts";
import { sendJson } from "../proxy/respond.ts";

/**
 * `GET /usage`: tokens and requests per client, model and deployment, today (UTC) and this
 * minute, from the limits store (so every replica's traffic when it is Redis). Guarded like the
 * status page: with clients configured, only with AZURE_OPENAI_PROXY_ADMIN_KEY.
 */
export function usageRoute(ctx: ProxyContext): RouteHandler {
  return async (request, response, _params, record) => {
    record.operation = "usage";
    const refused = checkAdminAccess(request.headers, ctx.config.adminKey, clientsConfigured(ctx));
    if (refused !== undefined) throw refused;
    let report: Awaited<ReturnType<typeof ctx.limiter.usage>>;
    try {
      report = await ctx.limiter.usage();
    } catch (error) {
      throw limitsUnavailable(error);
    }
    sendJson(response, 200, report, { "cache-control": "no-store" });
  };
}

/** Proxy keys or named clients: then the operator's pages need the admin key. */
export function clientsConfigured(ctx: ProxyContext): boolean {
  return ctx.config.clientKeys.length > 0 || ctx.routes.topology.clients.size > 0;
}
