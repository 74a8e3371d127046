import type { IncomingMessage } from "node:http";
import { type ChatExchange, chatExchangeFor } from "../adapters/chat-exchange.ts";
import { isChatNotSupported } from "../adapters/operation-not-supported.ts";
import {
  adaptationForAzureError,
  adaptedHeader,
  applyAdaptations,
} from "../adapters/reasoning-params.ts";
import { anthropicMessagesUrl, forClaude } from "../azure/anthropic-endpoint.ts";
import { type ClientAuth, resourceCredential } from "../azure/credentials.ts";
import { buildAzureUrl, buildUpstreamHeaders, type UpstreamCredential } from "../azure/request.ts";
import { modelAllowed } from "../config/clients.ts";
import {
  invalidJson,
  jsonBodyNotObject,
  modelNotAllowed,
  modelNotFound,
} from "../openai/errors.ts";
import type { Operation } from "../openai/operations.ts";
import { type FamilyMatch, modelFamily } from "../routing/model-family.ts";
import { poolFor } from "../routing/pool-for.ts";
import type { Target } from "../routing/target.ts";
import { type BodyPlan, planBody } from "./body-plan.ts";
import type { ProxyContext } from "./context.ts";
import { type ForwardPlan, forwardWithFailover } from "./failover.ts";
import { requestStreamUsage } from "./json-body.ts";
import {
  chargeClient,
  failoverLimits,
  ownCredentialRefused,
  type RouteHandler,
  type RouteParams,
  refreshRefusedToken,
  streamUsageKnown,
  withStreamUsage,
} from "./operation-handler.ts";
import type { RelayOptions } from "./relay.ts";
import type { UpstreamRequest } from "./upstream-call.ts";

/** What the proxy learned about a deployment from Azure's refusals; kept while the target lives. */
interface Learned {
  /** Azure answered chat with OperationNotSupported: chat goes over the Responses API. */
  responses: boolean;
  /** Parameter changes Azure asked for ("max_tokens->max_completion_tokens", "-temperature"). */
  adaptations: string[];
}

const learnedByTarget = new WeakMap<Target, Learned>();

function learnedFor(target: Target): Learned {
  let learned = learnedByTarget.get(target);
  if (learned === undefined) {
    learned = { responses: false, adaptations: [] };
    learnedByTarget.set(target, learned);
  }
  return learned;
}

/** How long a chat request waits for the deployment listing to learn a deployment's model. */
const LISTING_WAIT_MS = 3000;

/**
 * Chat Completions for every model family: each target's family (from the model its deployment
 * runs, else its name, else what Azure's refusals taught) decides whether the chat body goes as
 * it is, with reasoning parameters adapted, over the Responses API, or over Anthropic's Messages
 * API; the answer comes back as chat. Azure's 400 OperationNotSupported and "Unsupported
 * parameter/value" answers are met by sending the same target the fitting request before any
 * byte reached the client, and remembered for the deployment.
 */
export function chatCompletionsHandler(operation: Operation, ctx: ProxyContext): RouteHandler {
  const { config } = ctx;
  const relay: RelayOptions = {
    stream: operation.stream,
    keepAzureStreamArtefacts: config.keepAzureStreamArtefacts,
  };
  return async (request, response, params, record) => {
    record.operation = operation.id;
    const auth = ctx.authenticate(request.headers);
    const { client } = auth;
    record.client = client.name;
    const routes = ctx.routes;
    const body = await planBody(operation, request, config, routes.topology.models.size > 0);
    try {
      await serve(auth, body);
    } finally {
      await body.discard();
      chargeClient(ctx, record);
    }

    async function serve(auth: ClientAuth, body: BodyPlan): Promise<void> {
      const model = body.model;
      if (model !== undefined && !modelAllowed(client.policy, model)) {
        throw modelNotAllowed(model, client.name);
      }
      const pool = await poolFor(ctx, routes, auth, model);
      record.model = model;
      if (pool === undefined) throw modelNotFound(model ?? "");
      const raw = body.bodyFor(undefined, 0)?.body;
      // Streams report tokens only when asked: the proxy asks, and hides the answer from a client
      // that did not (plain chat; translated streams carry usage when the client asked for it).
      const hideStreamUsage =
        body.streaming && Buffer.isBuffer(raw) && requestStreamUsage(raw) !== undefined;
      // Parsed only when a family needs the body read (plain chat goes on as bytes).
      let parsed: Record<string, unknown> | undefined;
      const chatBody = () => {
        parsed ??= parseChat(raw);
        return parsed;
      };
      const query = queryOf(request);
      // The model behind each deployment decides its family: the listing poolFor already fetched
      // for the fallback resource is at hand; other resources' listings are warmed for later.
      const fallback = routes.topology.fallback;
      if (config.adaptParams && fallback !== undefined) {
        const credential = await resourceCredential(fallback, auth, ctx.tokens);
        const listing = await ctx.directoryFor(fallback).get(credential, LISTING_WAIT_MS);
        if (listing !== null) listings.set(fallback, listing);
      }

      /** Per target: the exchange of the latest attempt and the changes it made. */
      const exchanges = new Map<
        Target,
        { exchange: ChatExchange; sent: () => Record<string, unknown>; adapted: string[] }
      >();

      // Nothing is forwarded for a refused request; the headers go on every answer after this.
      const limitHeaders = await ctx.limiter.admit(client);
      for (const name in limitHeaders) response.setHeader(name, limitHeaders[name] as string);
      const requestRelay: RelayOptions = { ...relay, headers: limitHeaders, hideStreamUsage };

      const plan: ForwardPlan = {
        pool,
        relay: requestRelay,
        targetHeader: config.targetHeader,
        credentialRefused: (target, refusal) => ownCredentialRefused(ctx, auth, target, refusal),
        request(target, attempt) {
          const { resource, deployment } = target;
          if (deployment === undefined) return undefined;
          const learned = learnedFor(target);
          // A serverless endpoint is plain chat at OpenAI's paths, whatever model it runs.
          const found: FamilyMatch =
            resource.kind === "serverless"
              ? { family: "chat" }
              : familyOf(target, learned, listedModel(ctx, target, auth));
          // AZURE_OPENAI_PROXY_ADAPT_PARAMS=off leaves parameters alone; other APIs are still spoken.
          const family: FamilyMatch =
            !config.adaptParams && found.family === "reasoning" ? { family: "chat" } : found;
          const exchange = chatExchangeFor(family);
          const reached = exchange.api === "anthropic-messages" ? forClaude(resource) : resource;
          const credential = resourceCredential(reached, auth, ctx.tokens);
          if (credential instanceof Promise) {
            return credential.then((c) =>
              traced(target, build(target, attempt, family, exchange, c)),
            );
          }
          return traced(target, build(target, attempt, family, exchange, credential));
        },
        async reauthorize(target, refused, attempt) {
          // Azure refused an Entra token it had accepted: one fresh token, one more try.
          const claude = exchanges.get(target)?.exchange.api === "anthropic-messages";
          const resource = claude ? forClaude(target.resource) : target.resource;
          if (!(await refreshRefusedToken(ctx, resource, refused))) return undefined;
          return await plan.request(target, attempt + 1);
        },
        relayFor(target) {
          const current = exchanges.get(target);
          if (current === undefined) return requestRelay;
          const header = adaptedHeader(current.adapted);
          if (header !== undefined) record.adapted = header;
          if (current.exchange.api !== "chat") record.upstreamApi = current.exchange.api;
          return relayForExchange(requestRelay, current.exchange, header);
        },
        retrySameTarget(target, outcome) {
          const current = exchanges.get(target);
          if (current === undefined || current.exchange.api !== "chat") return false;
          const learned = learnedFor(target);
          const error = parseJson(outcome.body);
          if (isChatNotSupported(outcome.status, error)) {
            learned.responses = true;
            return true;
          }
          if (!config.adaptParams) return false;
          const change = adaptationForAzureError(outcome.status, error, current.sent());
          if (change === undefined || learned.adaptations.includes(change)) return false;
          learned.adaptations.push(change);
          return true;
        },
      };

      /** The attempt with its trace headers (`traceparent`), when tracing is on. */
      function traced(target: Target, upstream: UpstreamRequest | undefined) {
        if (upstream !== undefined && ctx.observer !== undefined) {
          Object.assign(upstream.headers, ctx.observer.attemptHeaders(record, target.id));
        }
        return upstream;
      }

      /** The request for one attempt on a target, once its credential is known. */
      function build(
        target: Target,
        attempt: number,
        family: FamilyMatch,
        exchange: ChatExchange,
        credential: UpstreamCredential,
      ): UpstreamRequest | undefined {
        const { resource } = target;
        const deployment = target.deployment as string;
        const learned = learnedFor(target);
        const untouched =
          family.family === "chat" && (learned.adaptations.length === 0 || !config.adaptParams);
        if (untouched) exchanges.set(target, { exchange, sent: chatBody, adapted: [] });
        if (resource.kind === "serverless")
          return serverlessRequest(request, resource.endpoint, credential, body);
        if (untouched) {
          // Nothing changed: the client's bytes go on as they came (dated) or with `model` set (v1).
          const inBody = deployment !== model && resource.apiStyle === "v1";
          const chosen = body.bodyFor(inBody ? deployment : undefined, attempt);
          if (chosen === undefined) return undefined;
          const bytes =
            hideStreamUsage && streamUsageKnown(resource) ? withStreamUsage(chosen) : chosen;
          const headers = buildUpstreamHeaders(request.headers, credential, bytes.length);
          if (bytes.contentType !== undefined) headers["content-type"] = bytes.contentType;
          const url = buildAzureUrl(resource, operation, deployment, params, query);
          return { url, method: "POST", headers, body: bytes.body };
        }
        const translated = exchange.requestBody(chatBody(), deployment);
        // Changes Azure asked for on earlier requests to this deployment are made up front.
        const remembered = exchange.api === "chat" && config.adaptParams ? learned.adaptations : [];
        const sent = applyAdaptations(translated.body, remembered);
        const adapted = [...translated.adapted];
        for (const change of remembered) if (!adapted.includes(change)) adapted.push(change);
        exchanges.set(target, { exchange, sent: () => sent, adapted });
        const where = { operation, params, query, anthropicVersion: config.anthropicVersion };
        return translatedRequest(exchange, family, target, sent, credential, request, where);
      }

      await forwardWithFailover(
        ctx.call,
        plan,
        response,
        record,
        failoverLimits(ctx, body.streaming),
      );
    }
  };
}

/** The families the configuration's `api:` names. */
const API_FAMILIES = {
  chat: "chat",
  responses: "responses-only",
  anthropic: "anthropic",
  v1: "foundry",
} as const;

/** The configuration's `api:` first, then what Azure taught, then the model table. */
function familyOf(target: Target, learned: Learned, model: string | undefined): FamilyMatch {
  const byTable = modelFamily(target.deployment ?? "", model);
  if (target.api !== undefined) {
    const family = API_FAMILIES[target.api];
    return family === byTable.family ? byTable : { family };
  }
  if (learned.responses) return { family: "responses-only" };
  return byTable;
}

/** The model a deployment runs, from its resource's listing when it is at hand. */
function listedModel(ctx: ProxyContext, target: Target, auth: ClientAuth): string | undefined {
  const listing = listings.get(target.resource);
  if (listing === undefined) return warmListing(ctx, target, auth);
  return listing.deployments.find((d) => d.id === target.deployment)?.model;
}

const listings = new WeakMap<object, { deployments: readonly { id: string; model: string }[] }>();

/** Starts (or refreshes) the listing for later requests; this one goes by the deployment's name. */
function warmListing(ctx: ProxyContext, target: Target, auth: ClientAuth): undefined {
  Promise.resolve()
    .then(() => resourceCredential(target.resource, auth, ctx.tokens))
    .then((credential) => ctx.directoryFor(target.resource).get(credential, LISTING_WAIT_MS))
    .then((listing) => {
      if (listing !== null) listings.set(target.resource, listing);
    })
    .catch(() => {});
  return undefined;
}

function parseChat(raw: unknown): Record<string, unknown> {
  if (!Buffer.isBuffer(raw)) throw jsonBodyNotObject();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch (error) {
    throw invalidJson((error as Error).message);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw jsonBodyNotObject();
  return parsed as Record<string, unknown>;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

function passThrough() {
  return { push: (chunk: Buffer) => chunk, end: () => undefined };
}

function queryOf(request: IncomingMessage): string {
  const url = request.url ?? "";
  const mark = url.indexOf("?");
  return mark === -1 ? "" : url.slice(mark + 1);
}

/**
 * A legacy serverless endpoint serves one model at OpenAI's paths with a Bearer key (the Go
 * proxy's AZURE_AI_STUDIO_DEPLOYMENTS): the client's body goes on as it came.
 */
function serverlessRequest(
  request: IncomingMessage,
  endpoint: string,
  credential: UpstreamCredential,
  body: BodyPlan,
): UpstreamRequest | undefined {
  const bytes = body.bodyFor(undefined, 0);
  if (bytes === undefined) return undefined;
  const headers = buildUpstreamHeaders(request.headers, undefined, bytes.length);
  headers["content-type"] = "application/json";
  headers.authorization =
    credential.header === "api-key" ? `Bearer ${credential.value}` : credential.value;
  return { url: `${endpoint}/v1/chat/completions`, method: "POST", headers, body: bytes.body };
}

/** Where a chat request goes on Azure: the operation row and the client's path and query. */
interface ChatRoute {
  readonly operation: Operation;
  readonly params: RouteParams;
  readonly query: string;
  /** `ANTHROPIC_APIVERSION`. */
  readonly anthropicVersion: string;
}

/**
 * The upstream request for a translated or adapted chat body: Anthropic's Messages API (key as
 * `x-api-key`, `anthropic-version`), the Responses API, the v1 API (Foundry models, and v1-style
 * resources, deployment in `model`), or the dated chat path.
 */
function translatedRequest(
  exchange: ChatExchange,
  family: FamilyMatch,
  target: Target,
  body: Record<string, unknown>,
  credential: UpstreamCredential,
  request: IncomingMessage,
  where: ChatRoute,
): UpstreamRequest {
  const { resource } = target;
  const deployment = target.deployment as string;
  let sent = body;
  let url: string;
  if (exchange.api === "anthropic-messages") {
    url = anthropicMessagesUrl(resource.anthropicEndpoint ?? resource.endpoint);
  } else if (exchange.api === "responses") {
    url = `${resource.endpoint}/openai/v1/responses`;
  } else if (family.family === "foundry" || resource.apiStyle === "v1") {
    // Foundry models answer only through the v1 API, with the deployment in `model`.
    sent = { ...body, model: deployment };
    const v1 = { ...resource, apiStyle: "v1" as const, apiVersion: "" };
    url = buildAzureUrl(v1, where.operation, deployment, where.params, where.query);
  } else {
    url = buildAzureUrl(resource, where.operation, deployment, where.params, where.query);
  }
  const bytes = Buffer.from(JSON.stringify(sent));
  const headers = buildUpstreamHeaders(request.headers, credential, bytes.length);
  headers["content-type"] = "application/json";
  if (exchange.api === "anthropic-messages") {
    headers["anthropic-version"] = where.anthropicVersion;
    // Anthropic's API takes a key as x-api-key; an Entra token stays a Bearer token.
    if (credential?.header === "api-key") {
      delete headers["api-key"];
      headers["x-api-key"] = credential.value;
    }
  }
  return { url, method: "POST", headers, body: bytes };
}

/** The relay for an exchange: the adapted header, and the answer's translation back to chat. */
function relayForExchange(
  relay: RelayOptions,
  exchange: ChatExchange,
  adaptedHeaderValue: string | undefined,
): RelayOptions {
  const withHeader: RelayOptions =
    adaptedHeaderValue === undefined
      ? relay
      : {
          ...relay,
          headers: { ...relay.headers, "x-azure-oai-proxy-adapted": adaptedHeaderValue },
        };
  if (exchange.api === "chat") return withHeader;
  return {
    ...withHeader,
    translation: {
      json: (answer) => exchange.responseBody(answer),
      stream: () => exchange.streamTranslator() ?? passThrough(),
      error: (status, answer) => exchange.errorBody(status, answer),
    },
  };
}
