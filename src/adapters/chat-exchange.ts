import type { OpenAIErrorBody } from "../openai/errors.ts";
import type { FamilyMatch, ModelFamily } from "../routing/model-family.ts";
import { AnthropicStreamToChat } from "./anthropic-stream-to-chat.ts";
import { anthropicErrorToOpenAI, anthropicToChat } from "./anthropic-to-chat.ts";
import type { ChatStreamTranslator } from "./chat-stream.ts";
import { chatToAnthropic } from "./chat-to-anthropic.ts";
import { chatToResponses } from "./chat-to-responses.ts";
import type { TranslatedRequest } from "./chat-types.ts";
import { isObject } from "./chat-types.ts";
import { adaptForReasoning } from "./reasoning-params.ts";
import { ResponsesStreamToChat } from "./responses-stream-to-chat.ts";
import { responsesToChat } from "./responses-to-chat.ts";

/**
 * The upstream operation a chat request becomes: Azure's Chat Completions, Azure's Responses API
 * (`/openai/v1/responses`), or Anthropic's Messages API (`/anthropic/v1/messages`).
 */
export type UpstreamApi = "chat" | "responses" | "anthropic-messages";

/**
 * One Chat Completions exchange with a deployment of some family, in the shape of Envoy AI
 * Gateway's translators: request body, response body, error body, stream chunks. An exchange is
 * made per request: it remembers what the answer's translation needs (include_usage, the JSON
 * tool). Every method is pure; throws are `ProxyError`s for the client.
 */
export interface ChatExchange {
  readonly api: UpstreamApi;
  /** The upstream body for the client's chat body, and the changes the client did not ask for. */
  requestBody(chat: unknown, deployment: string): TranslatedRequest;
  /** The `chat.completion` for the upstream's 2xx JSON answer. */
  responseBody(upstream: unknown): unknown;
  /**
   * The OpenAI-shaped body for the upstream's error answer (the caller keeps the status);
   * undefined when it is Azure's own error shape, which the proxy translates as usual.
   */
  errorBody(status: number, upstream: unknown): OpenAIErrorBody | undefined;
  /** The translator for a streamed answer; undefined when the upstream already streams chat chunks. */
  streamTranslator(): ChatStreamTranslator | undefined;
}

function includeUsage(chat: unknown): boolean {
  return (
    isObject(chat) && isObject(chat.stream_options) && chat.stream_options.include_usage === true
  );
}

/** Chat as it is; reasoning families get their parameters adapted first. */
class ChatPassThrough implements ChatExchange {
  readonly api = "chat";
  private readonly reasoning: boolean;

  constructor(reasoning: boolean) {
    this.reasoning = reasoning;
  }

  requestBody(chat: unknown): TranslatedRequest {
    if (!isObject(chat)) return { body: {}, adapted: [] };
    return this.reasoning ? adaptForReasoning(chat) : { body: chat, adapted: [] };
  }

  responseBody(upstream: unknown): unknown {
    return upstream;
  }

  errorBody(): undefined {
    return undefined;
  }

  streamTranslator(): undefined {
    return undefined;
  }
}

class ChatOverResponses implements ChatExchange {
  readonly api = "responses";
  private includeUsage = false;

  requestBody(chat: unknown, deployment: string): TranslatedRequest {
    this.includeUsage = includeUsage(chat);
    // Every Responses-only family (codex, the -pro models, deep research) is a reasoning model.
    return chatToResponses(chat, deployment, { reasoning: true });
  }

  responseBody(upstream: unknown): unknown {
    return responsesToChat(upstream);
  }

  /** Azure's Responses API errors have Azure's usual shape. */
  errorBody(): undefined {
    return undefined;
  }

  streamTranslator(): ChatStreamTranslator {
    return new ResponsesStreamToChat({ includeUsage: this.includeUsage });
  }
}

class ChatOverAnthropic implements ChatExchange {
  readonly api = "anthropic-messages";
  private readonly defaultMaxTokens: number;
  private includeUsage = false;
  private jsonTool: string | undefined;

  constructor(defaultMaxTokens: number) {
    this.defaultMaxTokens = defaultMaxTokens;
  }

  requestBody(chat: unknown, deployment: string): TranslatedRequest {
    this.includeUsage = includeUsage(chat);
    const request = chatToAnthropic(chat, deployment, this.defaultMaxTokens);
    this.jsonTool = request.jsonTool;
    return request;
  }

  responseBody(upstream: unknown): unknown {
    return anthropicToChat(upstream, { jsonTool: this.jsonTool });
  }

  errorBody(status: number, upstream: unknown): OpenAIErrorBody {
    return anthropicErrorToOpenAI(status, upstream);
  }

  streamTranslator(): ChatStreamTranslator {
    return new AnthropicStreamToChat({ includeUsage: this.includeUsage, jsonTool: this.jsonTool });
  }
}

/** Anthropic's max_tokens when neither the client nor the family table gives one. */
const FALLBACK_CLAUDE_MAX_TOKENS = 8192;

const EXCHANGES: Readonly<Record<ModelFamily, (family: FamilyMatch) => ChatExchange>> = {
  chat: () => new ChatPassThrough(false),
  foundry: () => new ChatPassThrough(false),
  reasoning: () => new ChatPassThrough(true),
  "responses-only": () => new ChatOverResponses(),
  anthropic: (family) =>
    new ChatOverAnthropic(family.defaultMaxTokens ?? FALLBACK_CLAUDE_MAX_TOKENS),
};

/** A fresh exchange for one chat request to a deployment of `family`. */
export function chatExchangeFor(family: FamilyMatch): ChatExchange {
  return EXCHANGES[family.family](family);
}
