import type { FastifyInstance } from "fastify";
import { getAzureJson } from "../azure/get-json.ts";
import { modelNotFound, ProxyError } from "../openai/errors.ts";
import { listModels } from "../openai/models.ts";
import { translateAzureError } from "../proxy/azure-errors.ts";
import { upstreamFailure } from "../proxy/upstream.ts";
import { resolveDeployment } from "../routing/resolve-deployment.ts";
import type { AppContext } from "./context.ts";

/**
 * `GET /v1/models` and `GET /v1/models/{id}` answered by the proxy in OpenAI's shape, from the
 * resource's deployments where Azure lists them, from the configured mapping otherwise; and the
 * original proxy's `GET /v1/models/{id}/capabilities`, from Azure's model object.
 */
export function registerModelRoutes(app: FastifyInstance, ctx: AppContext): void {
  const listing = (headers: Parameters<AppContext["credentialFor"]>[0]) => {
    const credential = ctx.credentialFor(headers);
    return ctx.directory ? ctx.directory.get(credential) : Promise.resolve(null);
  };
  app.get("/v1/models", async (request) => {
    request.proxyLog.operation = "models.list";
    return {
      object: "list",
      data: listModels(await listing(request.headers), ctx.config.modelMapper),
    };
  });
  app.get<{ Params: { model: string } }>("/v1/models/:model", async (request) => {
    request.proxyLog.operation = "models.retrieve";
    const id = request.params.model.toLowerCase();
    const models = listModels(await listing(request.headers), ctx.config.modelMapper);
    const found = models.find((m) => m.id.toLowerCase() === id);
    if (found === undefined) throw modelNotFound(request.params.model);
    return found;
  });
  app.get<{ Params: { model: string } }>(
    "/v1/models/:model/capabilities",
    async (request, reply) => {
      request.proxyLog.operation = "models.capabilities";
      const credential = ctx.credentialFor(request.headers);
      const name = request.params.model;
      // A deployment (or a name resolving to one) is asked about by the model it serves.
      const known = await listing(request.headers);
      const deployment = resolveDeployment(name, ctx.config.modelMapper, known?.index ?? undefined);
      const served = known?.deployments.find(
        (d) => d.id.toLowerCase() === deployment.toLowerCase(),
      );
      const azureModel = served?.model ?? name;
      const { endpoint, apiStyle, apiVersion } = ctx.target;
      const url =
        apiStyle === "v1"
          ? `${endpoint}/openai/v1/models/${encodeURIComponent(azureModel)}`
          : `${endpoint}/openai/models/${encodeURIComponent(azureModel)}?api-version=${encodeURIComponent(apiVersion)}`;
      let answer: Awaited<ReturnType<typeof getAzureJson>>;
      try {
        answer = await getAzureJson(ctx.agent, url, credential, ctx.config.timeouts.responseMs);
      } catch (error) {
        throw upstreamFailure(error);
      }
      if (answer.status >= 400) {
        return reply.code(answer.status).send(translateAzureError(answer.status, answer.body));
      }
      let model: Record<string, unknown>;
      try {
        model = JSON.parse(answer.body.toString("utf8"));
      } catch {
        throw new ProxyError(
          502,
          "Azure OpenAI answered the model lookup with something other than JSON.",
        );
      }
      return {
        id: name,
        object: "model",
        model: model.id ?? azureModel,
        capabilities: model.capabilities ?? {},
        lifecycle_status: model.lifecycle_status,
        deprecation: model.deprecation,
      };
    },
  );
}
