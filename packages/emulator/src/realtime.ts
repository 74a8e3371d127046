/**
 * Realtime over WebSocket on the emulator's own HTTP server: dated
 * `GET /openai/realtime?api-version=…&deployment=…` and v1 `GET /openai/v1/realtime?model=…`.
 * The handshake is checked in Azure's order (route, key, api-version, deployment); a refused one
 * is answered on the raw socket with the status and Azure's JSON error body.
 */
import { randomUUID } from "node:crypto";
import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { checkApiVersion } from "./api-version.ts";
import { type CredentialCheck, isRealtimeAuthorized, sentDisabledKey } from "./auth.ts";
import { operationsOf } from "./catalog.ts";
import { type AzureError, azureErrors } from "./errors.ts";
import { integerHeader } from "./faults.ts";
import { RealtimeSession } from "./realtime-session.ts";
import { type ApiStyle, requestStyle } from "./routes.ts";
import type {
  EmulatorDeployment,
  EmulatorRealtime,
  RealtimeClose,
  RealtimeConnection,
  RecordedRequest,
} from "./types.ts";

export interface RealtimeOptions {
  deployments: ReadonlyMap<string, EmulatorDeployment>;
  credentials: CredentialCheck;
  chunkDelayMs: number;
  /** Records the handshake with the emulator's other requests. */
  record: (request: RecordedRequest) => void;
}

const PATHS: Record<string, ApiStyle> = {
  "/openai/realtime": "dated",
  "/openai/v1/realtime": "v1",
};

/** The subprotocol OpenAI's and Azure's realtime endpoints select. */
const REALTIME_PROTOCOL = "realtime";

function subprotocolsOf(req: IncomingMessage): string[] {
  const header = req.headers["sec-websocket-protocol"];
  if (header === undefined) return [];
  return header
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
}

function refuseUpgrade(socket: Duplex, error: AzureError, requestId: string): void {
  const body = JSON.stringify(error.body);
  const head = [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ""}`,
    "content-type: application/json",
    `content-length: ${Buffer.byteLength(body)}`,
    `apim-request-id: ${requestId}`,
    ...Object.entries(error.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
    "connection: close",
    "",
    "",
  ].join("\r\n");
  socket.end(head + body);
}

export class RealtimeServer {
  readonly #options: RealtimeOptions;
  readonly #wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has(REALTIME_PROTOCOL) ? REALTIME_PROTOCOL : false),
  });
  readonly #open = new Map<RealtimeConnection, { close: () => void }>();
  readonly #sessions: RealtimeConnection[] = [];
  readonly #received: unknown[] = [];
  readonly #closed: RealtimeClose[] = [];
  readonly state: EmulatorRealtime;

  constructor(options: RealtimeOptions) {
    this.#options = options;
    this.#wss.on("headers", (headers) => {
      headers.push(`apim-request-id: ${randomUUID()}`, "x-ms-region: Emulated");
    });
    const realtime = this;
    this.state = {
      get connections() {
        return realtime.#sessions.length;
      },
      get open() {
        return realtime.#open.size;
      },
      received: this.#received,
      closed: this.#closed,
      sessions: this.#sessions,
    };
  }

  /** The check a handshake fails first, or the deployment it addresses. */
  #check(
    req: IncomingMessage,
    style: ApiStyle | undefined,
    query: Record<string, string>,
    subprotocols: readonly string[],
  ): AzureError | EmulatorDeployment {
    if (style === undefined || req.method !== "GET") return azureErrors.resourceNotFound();
    if (req.headers.upgrade?.toLowerCase() !== "websocket") {
      return azureErrors.badRequest("This endpoint expects a WebSocket upgrade.");
    }
    const { credentials, deployments } = this.#options;
    if (!isRealtimeAuthorized(style, req.headers, query, subprotocols, credentials)) {
      return sentDisabledKey(req.headers, credentials, query, subprotocols)
        ? azureErrors.keyAuthDisabled()
        : azureErrors.accessDenied();
    }
    const versionError = checkApiVersion(style, query["api-version"]);
    if (versionError !== undefined) return versionError;
    const parameter = style === "dated" ? "deployment" : "model";
    const name = query[parameter];
    if (name === undefined || name === "") {
      return azureErrors.badRequest(
        `The '${parameter}' query parameter is required: set it to the deployment name.`,
      );
    }
    const deployment = deployments.get(name);
    if (deployment === undefined) return azureErrors.deploymentNotFound();
    if (!operationsOf(deployment.model).includes("chat/completions")) {
      return azureErrors.operationNotSupported("realtime", deployment.model);
    }
    return deployment;
  }

  /** Handles the HTTP server's `upgrade` event. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    const target = req.url?.startsWith("/") ? req.url : "/";
    const url = new URL(`http://emulator.invalid${target}`);
    const query = Object.fromEntries(url.searchParams);
    const style = PATHS[url.pathname];
    const subprotocols = subprotocolsOf(req);
    this.#options.record({
      method: req.method ?? "GET",
      path: url.pathname,
      query,
      headers: req.headers,
      style: requestStyle(url.pathname),
      deployment: (style === "v1" ? query.model : query.deployment) || undefined,
      bodySize: 0,
      aborted: false,
      subprotocols,
    });
    const requestId = randomUUID();
    const checked = this.#check(req, style, query, subprotocols);
    if ("status" in checked) {
      refuseUpgrade(socket, checked, requestId);
      return;
    }
    const chunkDelay = integerHeader(req.headers, "x-emulator-chunk-delay-ms");
    const chunkDelayMs = chunkDelay.value ?? this.#options.chunkDelayMs;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const record: RealtimeConnection = {
        sessionId: "",
        style: style as ApiStyle,
        deployment: checked.id,
        protocol: ws.protocol === "" ? undefined : ws.protocol,
        received: [],
        sent: [],
      };
      const session = new RealtimeSession(ws, {
        style: style as ApiStyle,
        deployment: checked,
        chunkDelayMs,
        newId: () => randomUUID().replaceAll("-", ""),
        record,
        heard: (event) => {
          record.received.push(event);
          this.#received.push(event);
        },
      });
      this.#sessions.push(record);
      this.#open.set(record, {
        close: () => {
          session.closedByEmulator = true;
          ws.terminate();
        },
      });
      ws.on("message", (data, isBinary) => {
        session.receive(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary);
      });
      ws.on("error", () => ws.terminate());
      ws.once("close", (code, reason) => {
        record.closed = {
          code,
          reason: reason.toString("utf8"),
          initiator: session.closedByEmulator ? "emulator" : "client",
        };
        this.#closed.push(record.closed);
        this.#open.delete(record);
      });
      session.start();
    });
  }

  /** Drops every open connection (emulator shutdown). */
  closeAll(): void {
    for (const connection of this.#open.values()) connection.close();
    this.#wss.close();
  }
}
