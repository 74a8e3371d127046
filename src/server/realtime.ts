import {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  STATUS_CODES,
} from "node:http";
import type { Duplex } from "node:stream";
import type { RawData, WebSocket } from "ws";
import { bearerToken, heldCredential, resourceCredential } from "../azure/credentials.ts";
import { buildAzureUrl, type UpstreamCredential } from "../azure/request.ts";
import { modelAllowed } from "../config/clients.ts";
import {
  allTargetsCooling,
  internalError,
  modelNotAllowed,
  modelNotFound,
  ProxyError,
  serviceStopping,
  unknownRoute,
  upstreamAuthFailed,
} from "../openai/errors.ts";
import type { Operation } from "../openai/operations.ts";
import { translateAzureError } from "../proxy/azure-errors.ts";
import type { ProxyContext } from "../proxy/context.ts";
import { upstreamFailure } from "../proxy/upstream.ts";
import { bridgeWebSockets, type EarlyEvents } from "../proxy/websocket-bridge.ts";
import { poolFor } from "../routing/pool-for.ts";

/** Browsers cannot set headers on a WebSocket, so OpenAI's SDK sends the key as a subprotocol. */
const KEY_PROTOCOL = "openai-insecure-api-key.";

export interface RealtimeSessions {
  /** Closes every open session with 1001 (going away). */
  closeAll(): void;
  readonly open: number;
}

/**
 * `GET /v1/realtime?model=…` upgraded to a WebSocket and bridged to Azure's realtime endpoint:
 * the model mapped to a deployment, credentials translated (headers or the key subprotocol),
 * and a handshake Azure refuses answered with Azure's status as an OpenAI-shaped HTTP error.
 */
export function attachRealtime(
  server: Server,
  ctx: ProxyContext,
  operation: Operation,
): RealtimeSessions {
  const sessions = new Set<{ client: WebSocket; azure: WebSocket }>();
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const path = (request.url ?? "").split("?", 1)[0] ?? "";
    if (path !== operation.path && path !== `${operation.path}/`) {
      refuse(socket, unknownRoute(request.method ?? "GET", path));
      return;
    }
    if (!ctx.ready) {
      refuse(socket, serviceStopping());
      return;
    }
    open(request, socket, head).catch((error: unknown) => {
      if (error instanceof ProxyError) refuse(socket, error);
      else {
        ctx.logger.error({ err: error }, "realtime handshake failed");
        refuse(socket, internalError());
      }
    });
  });

  async function open(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const started = performance.now();
    const offered = String(request.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p !== "");
    const auth = ctx.authenticate(withProtocolKey(request.headers, offered));
    const url = new URL(request.url ?? "/", "http://proxy");
    const model = url.searchParams.get("model") ?? url.searchParams.get("deployment") ?? undefined;
    if (model !== undefined && !modelAllowed(auth.client.policy, model)) {
      throw modelNotAllowed(model, auth.client.name);
    }
    const pool = await poolFor(ctx, ctx.routes, auth, model);
    if (pool === undefined) throw modelNotFound(model ?? "");
    // A session counts as one request against the client's rpm.
    await ctx.limiter.admit(auth.client);
    // A session is one long connection: it goes to one target, picked like any request's.
    const target = pool.pick(new Set(), Date.now());
    if (target === undefined) throw allTargetsCooling(pool.soonestAvailable() - Date.now());
    const deployment = target.deployment;
    const upstreamUrl = buildAzureUrl(
      target.resource,
      operation,
      deployment,
      {},
      url.search.slice(1),
    ).replace(/^http/, "ws");
    const protocols = offered.filter((p) => !p.startsWith(KEY_PROTOCOL));
    const { WebSocket, WebSocketServer } = await loadWs();

    /** One handshake with Azure, resolved once it is open. */
    const connect = async (credential: UpstreamCredential) => {
      const headers: Record<string, string> = { [credential.header]: credential.value };
      for (const name of ["openai-beta", "user-agent"]) {
        const value = request.headers[name];
        if (typeof value === "string") headers[name] = value;
      }
      const azure: WebSocket = new WebSocket(upstreamUrl, protocols, {
        headers,
        perMessageDeflate: false,
        maxPayload: ctx.config.realtimeMaxMessage,
        handshakeTimeout: ctx.config.timeouts.connectMs + ctx.config.timeouts.responseMs,
      });
      // Azure speaks first (session.created), possibly before the client's handshake is done:
      // hold what it says until the bridge is up.
      const early = holdEarlyEvents(azure);
      const clientGone = () => azure.terminate();
      socket.once("close", clientGone);
      try {
        await new Promise<void>((resolve, reject) => {
          azure.once("open", () => resolve());
          azure.once("unexpected-response", (_req, response) => {
            const chunks: Buffer[] = [];
            response.on("data", (c: Buffer) => chunks.push(c));
            response.on("end", () => {
              const status = response.statusCode ?? 502;
              const body = translateAzureError(status, Buffer.concat(chunks));
              reject(
                Object.assign(new ProxyError(status, body.error.message, body.error), {
                  azureBody: body,
                }),
              );
              azure.terminate();
            });
            response.on("error", () => reject(upstreamFailure(new Error("realtime handshake"))));
          });
          azure.once("error", (error) => reject(upstreamFailure(error)));
        });
      } finally {
        socket.off("close", clientGone);
      }
      return { azure, early };
    };

    /** The handshake; a refused Entra token gets one fresh token and one more, as requests do. */
    const connectOrRefresh = async () => {
      const credential = await resourceCredential(target.resource, auth, ctx.tokens);
      try {
        return await connect(credential);
      } catch (error) {
        const entra = target.resource.entra;
        const token = bearerToken(credential.value);
        const refused = error instanceof ProxyError && error.status === 401;
        if (!refused || entra === undefined || token === undefined || socket.destroyed) throw error;
        await ctx.tokens.for(entra).refresh(token);
        return await connect(await resourceCredential(target.resource, auth, ctx.tokens));
      }
    };
    let connected: Awaited<ReturnType<typeof connect>>;
    try {
      connected = await connectOrRefresh();
    } catch (error) {
      // Azure refused the proxy's own credential: warn the operator, and do not blame the client.
      const held = heldCredential(target.resource, auth);
      const status = error instanceof ProxyError ? error.status : 0;
      if ((status !== 401 && status !== 403) || held === undefined) throw error;
      ctx.logger.warn(
        { resource: target.resource.name, status },
        `Azure refused the proxy's ${held} credential: check it in the configuration`,
      );
      throw upstreamAuthFailed(held, `${status}: ${(error as Error).message}`.slice(0, 300));
    }
    const { azure, early } = connected;
    if (socket.destroyed) {
      azure.terminate();
      return;
    }

    const wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: ctx.config.realtimeMaxMessage,
      handleProtocols: () => azure.protocol || false,
    });
    wss.handleUpgrade(request, socket, head, (client) => {
      const session = { client, azure };
      sessions.add(session);
      bridgeWebSockets(client, azure, early.release()).then((result) => {
        sessions.delete(session);
        ctx.logger.info(
          {
            method: "GET",
            path: operation.path,
            status: 101,
            ms: Math.round(performance.now() - started),
            operation: operation.id,
            client: auth.client.name,
            model,
            deployment,
            closedBy: result.closedBy,
            closeCode: result.code,
          },
          "request",
        );
      });
    });
  }

  return {
    closeAll() {
      for (const { client, azure } of sessions) {
        client.close(1001, "the proxy is shutting down");
        azure.close(1001, "the proxy is shutting down");
      }
    },
    get open() {
      return sessions.size;
    },
  };
}

/** Messages and a close that arrive from Azure before the bridge starts. */
function holdEarlyEvents(azure: WebSocket) {
  const messages: { data: RawData; isBinary: boolean }[] = [];
  let closed: { code: number; reason: Buffer } | undefined;
  const onMessage = (data: RawData, isBinary: boolean) => messages.push({ data, isBinary });
  const onClose = (code: number, reason: Buffer) => {
    closed = { code, reason };
  };
  azure.on("message", onMessage);
  azure.on("close", onClose);
  return {
    release(): EarlyEvents {
      azure.off("message", onMessage);
      azure.off("close", onClose);
      return { messages, closed };
    },
  };
}

let wsModule: Promise<typeof import("ws")> | undefined;
/** Loaded on the first realtime session: most deployments never open one. */
function loadWs(): Promise<typeof import("ws")> {
  wsModule ??= import("ws");
  return wsModule;
}

/** The key from an `openai-insecure-api-key.<key>` subprotocol, as an api-key header. */
function withProtocolKey(
  headers: IncomingHttpHeaders,
  offered: readonly string[],
): IncomingHttpHeaders {
  const keyProtocol = offered.find((p) => p.startsWith(KEY_PROTOCOL));
  if (keyProtocol === undefined || headers["api-key"] || headers.authorization) return headers;
  return { ...headers, "api-key": keyProtocol.slice(KEY_PROTOCOL.length) };
}

/** Answers an upgrade request with an OpenAI-shaped HTTP error and closes the socket. */
function refuse(socket: Duplex, error: ProxyError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify((error as { azureBody?: unknown }).azureBody ?? error.toBody());
  const head = [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? "Error"}`,
    "Content-Type: application/json",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
    ...Object.entries(error.headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
}
