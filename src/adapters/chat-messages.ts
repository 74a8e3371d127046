import { invalidChatRequest } from "../openai/errors.ts";
import type { ChatContentPart, ChatMessage, ChatRequest } from "./chat-types.ts";
import { isObject } from "./chat-types.ts";

/** The request as a chat body with its messages checked to be role-tagged objects. */
export function readChatRequest(body: unknown): ChatRequest {
  if (!isObject(body) || !Array.isArray(body.messages)) {
    throw invalidChatRequest("messages", "a chat completions request needs an array of messages.");
  }
  body.messages.forEach((message: unknown, i) => {
    if (!isObject(message) || typeof message.role !== "string") {
      throw invalidChatRequest(`messages[${i}]`, "each message must be an object with a role.");
    }
  });
  return body as ChatRequest;
}

/** A message's content as parts; a string is one text part. */
export function contentParts(message: ChatMessage): ChatContentPart[] {
  const content = message.content;
  if (content === undefined || content === null) return [];
  if (typeof content === "string") return [{ type: "text", text: content }];
  if (Array.isArray(content)) return content.filter(isObject) as ChatContentPart[];
  return [];
}

/** The text of a message whose parts can only be text (system, developer, tool). */
export function contentText(message: ChatMessage): string {
  if (typeof message.content === "string") return message.content;
  return contentParts(message)
    .map((part) => part.text ?? part.refusal ?? "")
    .join("");
}

/** The URL and detail of an `image_url` part, which clients send as an object or a bare string. */
export function imageOf(part: ChatContentPart, param: string): { url: string; detail?: string } {
  const image = part.image_url;
  if (typeof image === "string") return { url: image };
  if (isObject(image) && typeof image.url === "string") {
    return typeof image.detail === "string"
      ? { url: image.url, detail: image.detail }
      : { url: image.url };
  }
  throw invalidChatRequest(param, "an image_url part needs image_url.url.");
}
