/**
 * Deterministic, Azure-shaped answer bodies. Pure: ids and timestamps come in as arguments, so
 * the same request always gets the same content.
 */
import { createHash } from "node:crypto";

const SAFE = { filtered: false, severity: "safe" } as const;

/** Per-choice content filter annotations, all categories passing. */
export function contentFilterResults() {
  return { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };
}

/** `prompt_filter_results`, one entry per prompt, all categories passing. */
export function promptFilterResults(promptCount = 1) {
  return Array.from({ length: promptCount }, (_, index) => ({
    prompt_index: index,
    content_filter_results: {
      ...contentFilterResults(),
      jailbreak: { filtered: false, detected: false },
    },
  }));
}

/** How much of the user's text the greeting echoes back. */
export const ECHO_LIMIT = 200;

export const SYSTEM_FINGERPRINT = "fp_emulator";

export type FinishReason = "stop" | "length";

/** An answer text cut into stream pieces: one word each, with its leading whitespace. */
export interface TextPlan {
  pieces: string[];
  finishReason: FinishReason;
}

export function greeting(deployment: string, said: string): string {
  return `Hello from the Azure OpenAI emulator (deployment ${deployment}). You said: ${said.slice(0, ECHO_LIMIT)}`;
}

/** "word1 word2 … wordN", for `x-emulator-words`. */
export function numberedWords(count: number): string {
  return Array.from({ length: count }, (_, i) => `word${i + 1}`).join(" ");
}

/** The emulator's token count: whitespace-separated words. */
export function countWords(text: string): number {
  return text.match(/\S+/g)?.length ?? 0;
}

export function planText(text: string, maxTokens?: number): TextPlan {
  const pieces = text.match(/\s*\S+/g) ?? [];
  if (maxTokens !== undefined && pieces.length > maxTokens) {
    return { pieces: pieces.slice(0, maxTokens), finishReason: "length" };
  }
  return { pieces, finishReason: "stop" };
}

function tokenUsage(promptTokens: number, completionTokens: number) {
  return {
    completion_tokens: completionTokens,
    completion_tokens_details: {
      accepted_prediction_tokens: 0,
      audio_tokens: 0,
      reasoning_tokens: 0,
      rejected_prediction_tokens: 0,
    },
    prompt_tokens: promptTokens,
    prompt_tokens_details: { audio_tokens: 0, cached_tokens: 0 },
    total_tokens: promptTokens + completionTokens,
  };
}

// ---- chat completions ----

export type ChatContent =
  | { kind: "text"; text: TextPlan }
  | { kind: "tool-call"; callId: string; name: string; arguments: string };

/** One chat answer, rendered either whole ({@link chatCompletionBody}) or as a stream. */
export interface ChatAnswer {
  id: string;
  created: number;
  model: string;
  /** Number of identical choices (`n`). */
  n: number;
  promptTokens: number;
  content: ChatContent;
}

export function chatCompletionTokens(answer: ChatAnswer): number {
  const perChoice = answer.content.kind === "text" ? answer.content.text.pieces.length : 1;
  return perChoice * answer.n;
}

export function chatUsage(answer: ChatAnswer) {
  return tokenUsage(answer.promptTokens, chatCompletionTokens(answer));
}

function chatMessage(content: ChatContent) {
  if (content.kind === "text") {
    return {
      annotations: [],
      content: content.text.pieces.join(""),
      refusal: null,
      role: "assistant",
    };
  }
  return {
    annotations: [],
    content: null,
    refusal: null,
    role: "assistant",
    tool_calls: [
      {
        function: { arguments: content.arguments, name: content.name },
        id: content.callId,
        type: "function",
      },
    ],
  };
}

export function chatFinishReason(content: ChatContent): FinishReason | "tool_calls" {
  return content.kind === "text" ? content.text.finishReason : "tool_calls";
}

export function chatCompletionBody(answer: ChatAnswer) {
  return {
    choices: Array.from({ length: answer.n }, (_, index) => ({
      content_filter_results: contentFilterResults(),
      finish_reason: chatFinishReason(answer.content),
      index,
      logprobs: null,
      message: chatMessage(answer.content),
    })),
    created: answer.created,
    id: answer.id,
    model: answer.model,
    object: "chat.completion",
    prompt_filter_results: promptFilterResults(),
    system_fingerprint: SYSTEM_FINGERPRINT,
    usage: chatUsage(answer),
  };
}

// ---- legacy completions ----

export interface CompletionAnswer {
  id: string;
  created: number;
  model: string;
  promptCount: number;
  promptTokens: number;
  /** Choices in index order: `n` per prompt, prompts in order. */
  choices: TextPlan[];
}

export function completionUsage(answer: CompletionAnswer) {
  const completionTokens = answer.choices.reduce((sum, c) => sum + c.pieces.length, 0);
  return {
    completion_tokens: completionTokens,
    prompt_tokens: answer.promptTokens,
    total_tokens: answer.promptTokens + completionTokens,
  };
}

export function completionBody(answer: CompletionAnswer) {
  return {
    choices: answer.choices.map((plan, index) => ({
      content_filter_results: contentFilterResults(),
      finish_reason: plan.finishReason,
      index,
      logprobs: null,
      text: plan.pieces.join(""),
    })),
    created: answer.created,
    id: answer.id,
    model: answer.model,
    object: "text_completion",
    prompt_filter_results: promptFilterResults(answer.promptCount),
    system_fingerprint: SYSTEM_FINGERPRINT,
    usage: completionUsage(answer),
  };
}

// ---- embeddings ----

export const DEFAULT_EMBEDDING_DIMENSIONS = 8;

/** An embedding input: text, or an array of token ids. */
export type EmbeddingInput = string | number[];

/**
 * A unit-length vector derived from a hash of the input. Values are float32-exact so the
 * float and base64 encodings carry the same numbers.
 */
export function embeddingVector(input: EmbeddingInput, dimensions: number): number[] {
  const seed = JSON.stringify(input);
  const raw: number[] = [];
  for (let block = 0; raw.length < dimensions; block++) {
    const digest = createHash("sha256").update(`${block}:${seed}`).digest();
    for (let i = 0; i + 4 <= digest.length && raw.length < dimensions; i += 4) {
      raw.push(digest.readUInt32LE(i) / 0xffffffff - 0.5);
    }
  }
  const norm = Math.hypot(...raw) || 1;
  return raw.map((v) => Math.fround(v / norm));
}

export function float32Base64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => {
    bytes.writeFloatLE(v, i * 4);
  });
  return bytes.toString("base64");
}

export function embeddingTokens(input: EmbeddingInput): number {
  return typeof input === "string" ? Math.max(1, countWords(input)) : input.length;
}

export function embeddingsBody(
  model: string,
  inputs: readonly EmbeddingInput[],
  dimensions: number,
  encoding: "float" | "base64",
) {
  const promptTokens = inputs.reduce((sum, input) => sum + embeddingTokens(input), 0);
  return {
    data: inputs.map((input, index) => {
      const vector = embeddingVector(input, dimensions);
      return {
        embedding: encoding === "base64" ? float32Base64(vector) : vector,
        index,
        object: "embedding",
      };
    }),
    model,
    object: "list",
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

// ---- images ----

/** A valid 1×1 transparent PNG. */
export const TINY_PNG_BASE64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

export function imageUrl(imageId: string): string {
  return `https://emulator.invalid/images/${imageId}.png`;
}

export function imagesBody(
  created: number,
  prompt: string,
  responseFormat: "url" | "b64_json",
  imageIds: readonly string[],
) {
  return {
    created,
    data: imageIds.map((imageId) => ({
      ...(responseFormat === "url" ? { url: imageUrl(imageId) } : { b64_json: TINY_PNG_BASE64 }),
      content_filter_results: contentFilterResults(),
      prompt_filter_results: promptFilterResults()[0]?.content_filter_results,
      revised_prompt: `An emulated image of: ${prompt.slice(0, ECHO_LIMIT)}`,
    })),
  };
}

// ---- structured answers ----

/**
 * A deterministic value that fits a JSON schema (objects with every property, the first enum
 * value, "emulator" for strings, 1 for numbers), for JSON-schema answers and tool arguments.
 */
export function sampleOf(schema: unknown, depth = 0): unknown {
  if (typeof schema !== "object" || schema === null || depth > 8) return null;
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  if ("const" in s) return s.const;
  const options = s.anyOf ?? s.oneOf;
  if (Array.isArray(options) && options.length > 0) return sampleOf(options[0], depth + 1);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
  switch (type) {
    case "string":
      return "emulator";
    case "number":
    case "integer":
      return 1;
    case "boolean":
      return true;
    case "null":
      return null;
    case "array":
      return s.items === undefined ? [] : [sampleOf(s.items, depth + 1)];
    default: {
      const properties =
        typeof s.properties === "object" && s.properties !== null ? s.properties : {};
      return Object.fromEntries(
        Object.entries(properties).map(([name, sub]) => [name, sampleOf(sub, depth + 1)]),
      );
    }
  }
}
