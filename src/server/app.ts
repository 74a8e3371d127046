import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from "fastify";
import {
  internalError,
  legacyFineTunesRemoved,
  ProxyError,
  serviceStopping,
  unknownRoute,
} from "../openai/errors.ts";
import { FORWARD_ANY, OPERATIONS } from "../openai/operations.ts";
import type { AppContext } from "./context.ts";
import { createCors } from "./cors.ts";
import { registerModelRoutes } from "./models-route.ts";
import { azureOperationHandler, openaiPassthroughHandler } from "./proxy-route.ts";
import { logWhenDone, type RequestLog } from "./request-log.ts";

declare module "fastify" {
  interface FastifyRequest {
    proxyLog: RequestLog;
  }
}

/** The HTTP app: routes from the operation table, auth, CORS, health, OpenAI-shaped errors. */
export function buildApp(ctx: AppContext): FastifyInstance {
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // The routes read bodies themselves (streamed or bounded), so Fastify's limit never applies.
    bodyLimit: Number.MAX_SAFE_INTEGER,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    // No route declares a JSON schema, so Fastify's schema compilers (ajv, fast-json-stringify)
    // are never used; loading them cost ~40 ms of start-up (profiled).
    schemaController: {
      compilersFactory: { buildValidator: noCompiler, buildSerializer: noCompiler },
    },
  });
  const cors = createCors(ctx.config.corsOrigins);

  app.decorateRequest("proxyLog", null as unknown as RequestLog);
  app.addHook("onRequest", (request, reply, done) => {
    request.proxyLog = {};
    logWhenDone(ctx.logger, request.raw, reply.raw, request.proxyLog);
    cors.apply(request.headers, reply.raw);
    done();
  });

  // Bodies are left unread for the handlers: JSON is read bounded, uploads are streamed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null));

  app.setErrorHandler((error: FastifyError | ProxyError, request, reply) => {
    let proxyError: ProxyError;
    if (error instanceof ProxyError) proxyError = error;
    else if (typeof error.statusCode === "number" && error.statusCode < 500) {
      proxyError = new ProxyError(error.statusCode, error.message, {
        code: error.code?.toLowerCase() ?? null,
      });
    } else {
      request.log.error({ err: error }, "unexpected error");
      proxyError = internalError();
    }
    request.proxyLog.error ??= proxyError.code ?? proxyError.message;
    void reply.code(proxyError.status).headers(proxyError.headers).send(proxyError.toBody());
  });
  app.setNotFoundHandler((request, _reply) => {
    throw unknownRoute(request.method, request.url.split("?", 1)[0] ?? "");
  });

  app.options("*", (request, reply) => {
    void reply.code(204).headers(cors.preflight(request.headers)).send();
  });

  app.get("/healthz", () => {
    const { topology } = ctx.routes;
    const fallback = topology.fallback;
    return {
      status: "ok",
      mode: ctx.config.mode,
      upstream: ctx.config.azure.emulator ? "emulator" : ctx.config.mode,
      ...(ctx.config.mode === "azure" && fallback
        ? { apiStyle: fallback.apiStyle, apiVersion: fallback.apiVersion || undefined }
        : {}),
      ...(topology.source === "environment"
        ? {}
        : {
            config: topology.source,
            resources: topology.resources.size,
            models: topology.models.size,
          }),
      ...(ctx.config.azure.emulator
        ? {
            warning:
              "AZURE_OPENAI_ENDPOINT is not set: requests go to the built-in Azure OpenAI emulator, not to Azure.",
          }
        : {}),
    };
  });
  app.get("/readyz", (_request, reply) => {
    if (!ctx.ready) throw serviceStopping();
    void reply.send({ status: "ready" });
  });

  if (ctx.config.mode === "openai") {
    const passthrough = openaiPassthroughHandler(ctx);
    app.route({ method: ["GET", "POST", "DELETE"], url: "/v1/*", handler: passthrough });
    return app;
  }

  for (const operation of OPERATIONS) {
    if (operation.websocket) continue; // served by the upgrade handler below
    app.route({
      method: operation.method,
      url: operation.path,
      handler: azureOperationHandler(operation, ctx),
    });
  }
  app.route({
    method: ["GET", "POST", "DELETE", "PUT", "PATCH"],
    url: FORWARD_ANY.path,
    handler: azureOperationHandler(FORWARD_ANY, ctx),
  });
  registerModelRoutes(app, ctx);
  app.all("/v1/fine_tunes", legacyFineTunes);
  app.all("/v1/fine_tunes/*", legacyFineTunes);
  return app;
}

function legacyFineTunes(): never {
  throw legacyFineTunesRemoved();
}

/** Stands in for Fastify's schema compilers: no route here has a schema to compile. */
function noCompiler(): never {
  throw new Error("routes of this app declare no schemas");
}
