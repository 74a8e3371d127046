import type { FastifyInstance } from "fastify";
import { modelNotFound } from "../openai/errors.ts";
import { listModels } from "../openai/models.ts";
import type { AppContext } from "./context.ts";

/**
 * `GET /v1/models` and `GET /v1/models/{id}` answered by the proxy in OpenAI's shape, from the
 * resource's deployments where Azure lists them, from the configured mapping otherwise.
 */
export function registerModelRoutes(app: FastifyInstance, ctx: AppContext): void {
  const models = async (headers: Parameters<AppContext["credentialFor"]>[0]) => {
    const credential = ctx.credentialFor(headers);
    const listing = ctx.directory ? await ctx.directory.get(credential) : null;
    return listModels(listing, ctx.config.modelMapper);
  };
  app.get("/v1/models", async (request) => {
    request.proxyLog.operation = "models.list";
    return { object: "list", data: await models(request.headers) };
  });
  app.get<{ Params: { model: string } }>("/v1/models/:model", async (request) => {
    request.proxyLog.operation = "models.retrieve";
    const id = request.params.model.toLowerCase();
    const found = (await models(request.headers)).find((m) => m.id.toLowerCase() === id);
    if (found === undefined) throw modelNotFound(request.params.model);
    return found;
  });
}
