import type { IncomingMessage, ServerResponse } from "node:http";
import FindMyWay from "find-my-way";
import { forwardedVia } from "../forward/via.ts";
import type { RequestRecord } from "../observe/request-record.ts";
import { logWhenDone } from "../observe/request-record.ts";
import {
  internalError,
  invalidRequestTarget,
  invalidUrl,
  legacyFineTunesRemoved,
  ProxyError,
  serviceStopping,
  unknownRoute,
  upstreamAuthNotReady,
} from "../openai/errors.ts";
import { FORWARD_ANY, OPERATIONS } from "../openai/operations.ts";
import {
  anthropicMessagesHandler,
  MESSAGES_ROUTE_PATHS,
} from "../proxy/anthropic-messages-handler.ts";
import { chatCompletionsHandler } from "../proxy/chat-handler.ts";
import type { ProxyContext } from "../proxy/context.ts";
import {
  openaiPassthroughHandler,
  operationHandler,
  type RouteHandler,
} from "../proxy/operation-handler.ts";
import { sendError, sendJson } from "../proxy/respond.ts";
import { RouteTable } from "../routing/route-table.ts";
import { guardBody } from "./body-guard.ts";
import { createCors } from "./cors.ts";
import { modelRoutes } from "./models-route.ts";
import { observeRoutes } from "./observe-routes.ts";
import { clientsConfigured, usageRoute } from "./usage-route.ts";

type Method = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";
const ANY: readonly Method[] = ["GET", "POST", "DELETE", "PUT", "PATCH"];

/**
 * The HTTP front: a request listener for node:http, with find-my-way routing built from the
 * operation table, CORS, health, one log record per request and OpenAI-shaped errors. Nothing
 * below it knows which server calls it.
 */
export function createRequestListener(
  ctx: ProxyContext,
  options: {
    /** Forward mode: the local CA, served at `GET /ca.pem` for clients to trust. */
    readonly caCertificatePem?: string;
  } = {},
): (request: IncomingMessage, response: ServerResponse) => void {
  const router = FindMyWay({
    ignoreTrailingSlash: true,
    ignoreDuplicateSlashes: true,
    onBadUrl: () => {},
  });
  const on = (methods: Method | readonly Method[], path: string, handler: RouteHandler) => {
    const list = typeof methods === "string" ? [methods] : methods;
    // HEAD is served wherever GET is, as HTTP asks (node:http sends no body for it).
    const all: Method[] = list.includes("GET") ? [...list, "HEAD"] : [...list];
    router.on(all, path, () => {}, handler);
  };
  const own = routes(ctx);
  if (ctx.observer !== undefined) {
    Object.assign(
      own,
      observeRoutes(ctx.observer, {
        metricsOnMain: ctx.config.metrics.kind === "main",
        adminKey: ctx.config.adminKey,
        clientsConfigured: () => clientsConfigured(ctx),
      }),
    );
  }
  for (const [path, handler] of Object.entries(own)) {
    on(path === "*" ? "OPTIONS" : "GET", path, handler);
  }
  if (ctx.config.mode === "openai") {
    on(["GET", "POST", "DELETE"], "/v1/*", openaiPassthroughHandler(ctx, openaiRoutes(ctx)));
  } else {
    for (const operation of OPERATIONS) {
      if (operation.websocket) continue; // served by the upgrade handler (realtime.ts)
      // Chat goes to every model family (Responses-only, Claude, reasoning, Foundry) its own way.
      const handler =
        operation.id === "chat.completions" ? chatCompletionsHandler : operationHandler;
      on(operation.method, operation.path, handler(operation, ctx));
    }
    const messages = anthropicMessagesHandler(ctx);
    for (const path of MESSAGES_ROUTE_PATHS) on("POST", path, messages);
    on(ANY, FORWARD_ANY.path, operationHandler(FORWARD_ANY, ctx));
    for (const [path, handler] of Object.entries(modelRoutes(ctx))) on("GET", path, handler);
    const legacy: RouteHandler = () => {
      throw legacyFineTunesRemoved();
    };
    on(ANY, "/v1/fine_tunes", legacy);
    on(ANY, "/v1/fine_tunes/*", legacy);
  }
  const cors = createCors(ctx.config.corsOrigins);

  return (request, response) => {
    const via = forwardedVia(request);
    const record: RequestRecord = via === undefined ? {} : { via };
    logWhenDone(ctx.logger, request, response, record);
    guardBody(request, response, ctx.config.timeouts.bodyIdleMs);
    ctx.observer?.begin(request, response, record);
    cors.apply(request.headers, response);
    const url = request.url ?? "/";
    const fail = (error: unknown) => answerError(ctx, request, response, record, error);
    // Only origin-form targets (`/v1/…`), and `*` for OPTIONS: an absolute-form target
    // (`GET https://x/v1/models`) is a request for a forward proxy, which this is not.
    if (!url.startsWith("/") && !(url === "*" && request.method === "OPTIONS")) {
      fail(invalidRequestTarget(url));
      return;
    }
    const found = router.find(request.method as Method, url);
    if (found === null) {
      fail(unknownRoute(request.method ?? "", url.split("?", 1)[0] ?? ""));
      return;
    }
    // A path the router could not decode (bad percent-encoding) comes back without a handler.
    const handler = found.store as RouteHandler | null;
    if (handler === null) {
      fail(invalidUrl(url.split("?", 1)[0] ?? ""));
      return;
    }
    try {
      const done = handler(request, response, found.params, record);
      if (done !== undefined) done.catch(fail);
    } catch (error) {
      fail(error);
    }
  };

  /** Routes answered by the proxy itself, in both modes. */
  function routes(ctx: ProxyContext): Record<string, RouteHandler> {
    return {
      "/usage": usageRoute(ctx),
      "*": (request, response) => {
        response.writeHead(204, cors.preflight(request.headers));
        response.end();
      },
      "/healthz": (_request, response) => sendJson(response, 200, health(ctx)),
      "/readyz": (_request, response) => {
        if (!ctx.ready) throw serviceStopping();
        // Keyless resources are unusable until their first token: not ready to take traffic.
        if (!ctx.tokens.ready) throw upstreamAuthNotReady(ctx.tokens.lastError());
        sendJson(response, 200, { status: "ready" });
      },
      ...(options.caCertificatePem === undefined
        ? {}
        : { "/ca.pem": caCertificateRoute(options.caCertificatePem) }),
    };
  }
}

/** The CA certificate (public, no key needed): `curl -o ca.pem http://proxy:11437/ca.pem`. */
function caCertificateRoute(pem: string): RouteHandler {
  const body = Buffer.from(pem);
  return (_request, response) => {
    response.writeHead(200, {
      "content-type": "application/x-pem-file",
      "content-length": body.length,
      "content-disposition": 'attachment; filename="azure-oai-proxy-ca.pem"',
    });
    response.end(body);
  };
}

/** openai mode's route table: OpenAI itself, one target. Built once. */
function openaiRoutes(ctx: ProxyContext): RouteTable {
  return RouteTable.forOpenAI(ctx.config.openaiEndpoint);
}

/** What `/healthz` says: the mode, where requests go, never a secret. */
function health(ctx: ProxyContext): Record<string, unknown> {
  const { topology } = ctx.routes;
  const fallback = topology.fallback;
  return {
    status: "ok",
    mode: ctx.config.mode,
    upstream: ctx.config.azure.emulator ? "emulator" : ctx.config.mode,
    ...ctx.tokens.status(),
    ...(ctx.config.mode === "azure" && fallback
      ? { apiStyle: fallback.apiStyle, apiVersion: fallback.apiVersion || undefined }
      : {}),
    ...(topology.source === "environment"
      ? {}
      : {
          // That a file is in use, not where it lies: /healthz answers anyone.
          config: "file",
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
}

/**
 * Any failure of a route becomes an OpenAI-shaped answer. A ProxyError is the proxy's own answer;
 * a client that went away is recorded as such; anything else is a bug: logged, answered 500.
 */
function answerError(
  ctx: ProxyContext,
  request: IncomingMessage,
  response: ServerResponse,
  record: RequestRecord,
  error: unknown,
): void {
  if (!(error instanceof ProxyError) && (request.destroyed || response.destroyed)) {
    record.error = "client closed the connection";
    response.destroy();
    return;
  }
  let proxyError: ProxyError;
  if (error instanceof ProxyError) proxyError = error;
  else {
    ctx.logger.error({ err: error }, "unexpected error");
    proxyError = internalError();
  }
  record.error ??= proxyError.code ?? proxyError.message;
  if (response.headersSent) {
    response.destroy();
    return;
  }
  sendError(response, proxyError);
}
