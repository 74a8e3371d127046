import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ANTHROPIC_MESSAGES_PATH,
  answerAnthropic,
  anthropicError,
  checkAnthropicRequest,
} from "./anthropic.ts";
import { keyCheck } from "./auth.ts";
import { type ReceivedBody, receiveBody } from "./body.ts";
import { DEFAULT_DEPLOYMENTS } from "./catalog.ts";
import { deploymentName, dispatch, type Resource, type ResourceCall } from "./dispatch.ts";
import { azureErrors } from "./errors.ts";
import { type ActiveFault, FaultQueue, faultFromHeaders, integerHeader } from "./faults.ts";
import { answerInference } from "./handlers.ts";
import { EmulatedIdentity, IDENTITY_PATH } from "./identity.ts";
import { INFERENCE_OPERATIONS } from "./operations.ts";
import { RealtimeServer } from "./realtime.ts";
import { errorReply, type Reply, sendReply } from "./reply.ts";
import {
  answerResource,
  emptyState,
  FileStore,
  KEEPS_FILE_FIELD,
  Lifecycles,
  type ResourceEnv,
} from "./resources/index.ts";
import { matchRoute, requestStyle } from "./routes.ts";
import { checkServerlessRequest, SERVERLESS_CHAT_PATHS } from "./serverless.ts";
import type { Emulator, EmulatorOptions, RecordedRequest } from "./types.ts";

const DEFAULTS = {
  host: "127.0.0.1",
  port: 0,
  apiKeys: ["emulator-key"],
  deployments: DEFAULT_DEPLOYMENTS,
  chunkDelayMs: 5,
  listDeployments: true,
  jobDurationMs: 100,
  keyless: false,
  serverlessModel: null,
} satisfies Settings;

/** The options with defaults, less the identity (each emulator has its own unless given one). */
type Settings = Required<Omit<EmulatorOptions, "identity">>;

// Azure reports what is left of the deployment's quota; the emulator never runs out.
const RATE_LIMIT_HEADERS = {
  "x-ratelimit-remaining-requests": "999",
  "x-ratelimit-remaining-tokens": "149000",
};

function validate(settings: Settings): void {
  const { port, chunkDelayMs, deployments, jobDurationMs } = settings;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65_535)) {
    throw new TypeError(`Emulator port must be an integer from 0 to 65535, got ${port}`);
  }
  if (!(Number.isFinite(chunkDelayMs) && chunkDelayMs >= 0)) {
    throw new TypeError(`Emulator chunkDelayMs must be a non-negative number, got ${chunkDelayMs}`);
  }
  if (!(Number.isFinite(jobDurationMs) && jobDurationMs >= 0)) {
    throw new TypeError(
      `Emulator jobDurationMs must be a non-negative number, got ${jobDurationMs}`,
    );
  }
  const ids = new Set<string>();
  for (const { id, model } of deployments) {
    if (id === "" || model === "")
      throw new TypeError("Emulator deployments need a non-empty id and model");
    if (ids.has(id)) throw new TypeError(`Emulator deployment "${id}" is listed twice`);
    ids.add(id);
  }
}

/** One request's link to its connection: abort on client departure, cut on purpose. */
interface Exchange {
  signal: AbortSignal;
  /** Destroys the connection without it counting as the client going away. */
  cut: () => void;
}

function openExchange(
  res: ServerResponse,
  record: RecordedRequest,
  isClosing: () => boolean,
): Exchange {
  const controller = new AbortController();
  let cutOnPurpose = false;
  const onClose = () => {
    if (!res.writableFinished && !cutOnPurpose && !isClosing()) record.aborted = true;
    controller.abort();
  };
  // The request's socket, not the response's: a response queued behind the previous one on a
  // kept-alive connection has no socket yet (res.socket is null) although the client is there.
  if (res.req.socket.destroyed) onClose();
  else res.once("close", onClose);
  return {
    signal: controller.signal,
    cut: () => {
      cutOnPurpose = true;
      res.socket?.destroy();
    },
  };
}

/**
 * Starts a strict Azure OpenAI emulator on a real socket.
 *
 * @example
 * const emulator = await startEmulator();
 * const res = await fetch(`${emulator.url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`, {
 *   method: "POST",
 *   headers: { "api-key": "emulator-key", "content-type": "application/json" },
 *   body: JSON.stringify({ messages: [{ role: "user", content: "Hi" }] }),
 * });
 * await emulator.close();
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const { identity: sharedIdentity, ...rest } = options;
  const settings: Settings = { ...DEFAULTS };
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined) Object.assign(settings, { [key]: value });
  }
  validate(settings);

  const newId = () => randomUUID().replaceAll("-", "");
  const state = emptyState();
  const identity = sharedIdentity ?? new EmulatedIdentity();
  const resource: Resource = {
    deployments: new Map(settings.deployments.map((d) => [d.id, { ...d }])),
    credentials: {
      isKey: keyCheck(settings.apiKeys),
      isEntraToken: (token) => identity.accepts(token),
      keyless: settings.keyless,
    },
    listDeployments: settings.listDeployments,
    fineTunedModels: () => state.fineTunedModels,
  };
  const env: ResourceEnv = {
    state,
    files: new FileStore(),
    lifecycles: new Lifecycles(),
    deployments: resource.deployments,
    jobDurationMs: settings.jobDurationMs,
    newId,
  };
  const faults = new FaultQueue();
  const requests: RecordedRequest[] = [];
  const realtime = new RealtimeServer({
    deployments: resource.deployments,
    credentials: resource.credentials,
    chunkDelayMs: settings.chunkDelayMs,
    record: (request) => requests.push(request),
  });
  let closing = false;

  /** What a deployment does with a request: injected or header faults first, then `produce`. */
  async function runModel(
    model: { deployment: string; operationId: string; apiVersion: string },
    produce: (forcedWords: number | undefined) => Reply,
    req: IncomingMessage,
    res: ServerResponse,
    exchange: Exchange,
  ): Promise<void> {
    for (const [name, value] of Object.entries(RATE_LIMIT_HEADERS)) res.setHeader(name, value);
    const requested = faultFromHeaders(req.headers);
    const chunkDelay = integerHeader(req.headers, "x-emulator-chunk-delay-ms");
    const words = integerHeader(req.headers, "x-emulator-words");
    const chunkDelayMs = chunkDelay.value ?? settings.chunkDelayMs;
    const send = (reply: Reply, cut?: () => void) =>
      sendReply(res, reply, { chunkDelayMs, signal: exchange.signal, cut });

    const headerError = requested.error ?? chunkDelay.error ?? words.error;
    if (headerError !== undefined) return send(errorReply(azureErrors.badRequest(headerError)));

    const fault: ActiveFault | undefined = requested.fault ?? faults.take(model.deployment);
    switch (fault?.kind) {
      case "429":
        return send(
          errorReply(
            azureErrors.rateLimited(model.operationId, model.apiVersion, fault.retryAfterMs),
          ),
        );
      case "500":
        return send(errorReply(azureErrors.internalServerError()));
      case "content-filter":
        return send(errorReply(azureErrors.contentFiltered()));
      case "hang":
        return; // The exchange stays open until the client leaves or the emulator closes.
      case "reset":
        return exchange.cut();
      case "slow-first-byte":
        await sleep(fault.delayMs, undefined, { signal: exchange.signal }).catch(() => undefined);
        if (exchange.signal.aborted) return;
        break;
    }
    const reply = produce(words.value);
    await send(reply, fault?.kind === "reset-mid-stream" ? exchange.cut : undefined);
  }

  async function runResource(
    call: ResourceCall,
    req: IncomingMessage,
    res: ServerResponse,
    exchange: Exchange,
  ): Promise<void> {
    const send = (reply: Reply) =>
      sendReply(res, reply, { chunkDelayMs: settings.chunkDelayMs, signal: exchange.signal });
    const words = integerHeader(req.headers, "x-emulator-words");
    if (words.error !== undefined) return send(errorReply(azureErrors.badRequest(words.error)));
    const answer = await answerResource(call, {
      ...env,
      now: Date.now(),
      forcedWords: words.value,
    });
    if (answer.kind !== "model-call") return send(answer);
    const model = {
      deployment: answer.deployment.id,
      operationId: answer.operationId,
      apiVersion: call.query["api-version"] ?? "v1",
    };
    await runModel(model, () => answer.answer(), req, res, exchange);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    res.setHeader("apim-request-id", requestId);
    res.setHeader("x-request-id", requestId);
    res.setHeader("x-ms-region", "Emulated");

    // Prefixing (rather than resolving against a base) keeps "//x" a path, not a host.
    const target = req.url?.startsWith("/") ? req.url : "/";
    const url = new URL(`http://emulator.invalid${target}`);
    const method = req.method ?? "GET";
    if (url.pathname === IDENTITY_PATH && method === "GET") {
      identity.answer(req, res, url);
      return;
    }
    const query = Object.fromEntries(url.searchParams);
    const route = matchRoute(method, url.pathname);
    // Files and upload parts go to disk as they stream in; any the request does not keep
    // (refused, or the client left) are removed once it is answered.
    const keepField = route?.kind === "resource" ? KEEPS_FILE_FIELD[route.op] : undefined;
    const written: string[] = [];
    if (keepField !== undefined) await env.files.ready();
    const saveFile = (field: string) => {
      if (field !== keepField) return undefined;
      const path = env.files.allocate();
      written.push(path);
      return path;
    };
    try {
      await receiveAndAnswer(req, res, { method, url, query, route, saveFile });
    } finally {
      if (written.length > 0) await env.files.discardUnkept(written);
    }
  }

  async function receiveAndAnswer(
    req: IncomingMessage,
    res: ServerResponse,
    request: {
      method: string;
      url: URL;
      query: Record<string, string>;
      route: ReturnType<typeof matchRoute>;
      saveFile: (field: string) => string | undefined;
    },
  ): Promise<void> {
    const { method, url, query, route } = request;
    const body = await receiveBody(req, { saveFile: request.saveFile });
    if (body === undefined) return; // The client left before sending its whole body.

    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query,
      headers: req.headers,
      style: requestStyle(url.pathname),
      deployment:
        url.pathname === ANTHROPIC_MESSAGES_PATH
          ? anthropicModel(body.json)
          : deploymentName(route, body),
      json: body.json,
      multipart: body.multipart,
      bodySize: body.size,
      aborted: false,
    };
    requests.push(record);
    const exchange = openExchange(res, record, () => closing);

    if (url.pathname === ANTHROPIC_MESSAGES_PATH) {
      await answerMessages(req, res, method, body, exchange);
      return;
    }
    const { serverlessModel } = settings;
    if (serverlessModel !== null && SERVERLESS_CHAT_PATHS.has(url.pathname) && method === "POST") {
      const checked = checkServerlessRequest(
        req.headers,
        body,
        serverlessModel,
        resource.credentials,
      );
      if (checked.kind === "reply") {
        await sendReply(res, checked.reply, {
          chunkDelayMs: settings.chunkDelayMs,
          signal: exchange.signal,
        });
        return;
      }
      const model = {
        deployment: checked.call.deployment.id,
        operationId: "ChatCompletions_Create",
        apiVersion: "v1",
      };
      const produce = (forcedWords: number | undefined) =>
        answerInference(checked.call, { forcedWords, now: Math.floor(Date.now() / 1000), newId });
      await runModel(model, produce, req, res, exchange);
      return;
    }

    const decision = dispatch(
      { method, path: url.pathname, query, headers: req.headers, body },
      resource,
    );
    if (decision.kind === "reply") {
      await sendReply(res, decision.reply, {
        chunkDelayMs: settings.chunkDelayMs,
        signal: exchange.signal,
      });
      return;
    }
    if (decision.kind === "resource") {
      await runResource(decision.call, req, res, exchange);
      return;
    }
    const { call } = decision;
    const model = {
      deployment: call.deployment.id,
      operationId: INFERENCE_OPERATIONS[call.op].azureOperationId,
      apiVersion: call.apiVersion,
    };
    const produce = (forcedWords: number | undefined) =>
      answerInference(call, { forcedWords, now: Math.floor(Date.now() / 1000), newId });
    await runModel(model, produce, req, res, exchange);
  }

  /** Claude at `/anthropic/v1/messages`: Anthropic's checks, then the deployment's faults and answer. */
  async function answerMessages(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    body: ReceivedBody,
    exchange: Exchange,
  ): Promise<void> {
    const checked =
      method === "POST"
        ? checkAnthropicRequest(req.headers, body, resource.deployments, resource.credentials)
        : anthropicError("not_found_error", "Not Found");
    if ("kind" in checked) {
      await sendReply(res, checked, {
        chunkDelayMs: settings.chunkDelayMs,
        signal: exchange.signal,
      });
      return;
    }
    res.setHeader("request-id", `req_${newId()}`);
    const model = {
      deployment: checked.deployment.id,
      operationId: "Messages_Create",
      apiVersion: String(req.headers["anthropic-version"]),
    };
    const produce = (forcedWords: number | undefined) =>
      answerAnthropic(checked, { forcedWords, newId });
    await runModel(model, produce, req, res, exchange);
  }

  const server = createServer({ noDelay: true }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A bug in the emulator must be visible, not a hung test.
      console.error("azure-oai-proxy emulator: unexpected error", error);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const { status, body } = azureErrors.internalServerError();
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
  });

  server.on("upgrade", (req, socket, head) => realtime.handleUpgrade(req, socket, head));

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.port, settings.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;

  return {
    url: `http://${host}:${port}`,
    port,
    requests,
    realtime: realtime.state,
    identity: Object.assign(identity, {
      endpoint: `http://${host}:${port}${IDENTITY_PATH}`,
      env: () => ({
        IDENTITY_ENDPOINT: `http://${host}:${port}${IDENTITY_PATH}`,
        IDENTITY_HEADER: identity.secretHeader,
      }),
    }),
    injectFault: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    close: () => {
      closed ??= new Promise<void>((resolve, reject) => {
        closing = true;
        realtime.closeAll();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }).finally(() => env.files.close());
      return closed;
    },
  };
}

function anthropicModel(json: unknown): string | undefined {
  const model = typeof json === "object" && json !== null ? Reflect.get(json, "model") : undefined;
  return typeof model === "string" && model !== "" ? model : undefined;
}
