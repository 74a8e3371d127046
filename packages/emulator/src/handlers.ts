/**
 * One handler per inference operation: validates the request's own fields the way Azure does and
 * builds the deterministic answer. Pure apart from the ids and clock it is handed.
 */
import {
  type ChatAnswer,
  type ChatContent,
  type CompletionAnswer,
  chatCompletionBody,
  completionBody,
  countWords,
  DEFAULT_EMBEDDING_DIMENSIONS,
  type EmbeddingInput,
  embeddingsBody,
  greeting,
  imagesBody,
  numberedWords,
  planText,
  sampleOf,
} from "./answers.ts";
import {
  type HeardAudio,
  isSpeechFormat,
  isTranscriptFormat,
  speechReply,
  TRANSCRIPT_FORMATS,
  transcriptReply,
} from "./audio.ts";
import { servingFamilyOf } from "./catalog.ts";
import type { InferenceCall } from "./dispatch.ts";
import { type AzureError, azureErrors } from "./errors.ts";
import type { InferenceOp } from "./operations.ts";
import { errorReply, type Reply } from "./reply.ts";
import { chatStreamEvents, completionStreamEvents } from "./sse.ts";

/** Per-request inputs that are not in the body. */
export interface HandlerContext {
  /** From `x-emulator-words`: answer with exactly this many words. */
  forcedWords?: number;
  /** Unix seconds. */
  now: number;
  /** A fresh random id (no prefix). */
  newId: () => string;
}

type Handler = (call: InferenceCall, context: HandlerContext) => Reply;

/** Azure refuses prompts containing this word, for testing content-filter handling. */
export const FORBIDDEN_WORD = "forbidden-topic";

const LEGACY_COMPLETIONS_DEFAULT_MAX_TOKENS = 16;
const MAX_EMBEDDING_INPUTS = 2048;
const MAX_EMBEDDING_DIMENSIONS = 3072;
const MAX_SPEECH_INPUT = 4096;

/** Thrown inside a handler to answer with an Azure error; caught by {@link answerInference}. */
class Rejection extends Error {
  readonly error: AzureError;
  constructor(error: AzureError) {
    super(JSON.stringify(error.body));
    this.error = error;
  }
}

function reject(message: string, param: string | null = null): never {
  throw new Rejection(azureErrors.invalidRequest(message, param));
}

function optionalInteger(json: Record<string, unknown>, name: string, min: number, max: number) {
  const value = json[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    reject(`Invalid value for '${name}': expected an integer from ${min} to ${max}.`, name);
  }
  return value;
}

function optionalString(json: Record<string, unknown>, name: string): string | undefined {
  const value = json[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") reject(`Invalid type for '${name}': expected a string.`, name);
  return value;
}

function optionalChoice<T extends string>(
  json: Record<string, unknown>,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = optionalString(json, name) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    reject(
      `Invalid value for '${name}': expected one of ${allowed.join(", ")}, got '${value}'.`,
      name,
    );
  }
  return value as T;
}

function checkStreamFlags(json: Record<string, unknown>): {
  stream: boolean;
  includeUsage: boolean;
} {
  if (json.stream !== undefined && json.stream !== null && typeof json.stream !== "boolean") {
    reject("Invalid type for 'stream': expected a boolean.", "stream");
  }
  const stream = json.stream === true;
  const options = json.stream_options;
  if (options !== undefined && options !== null && !stream) {
    reject(
      "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      "stream_options",
    );
  }
  const includeUsage =
    typeof options === "object" && options !== null && "include_usage" in options
      ? options.include_usage === true
      : false;
  return { stream, includeUsage };
}

function checkFiltered(texts: readonly string[]): void {
  if (texts.some((t) => t.includes(FORBIDDEN_WORD))) {
    throw new Rejection(azureErrors.contentFiltered());
  }
}

function answerText(call: InferenceCall, context: HandlerContext, said: string): string {
  return context.forcedWords === undefined
    ? greeting(call.deployment.id, said)
    : numberedWords(context.forcedWords);
}

// ---- chat completions ----

/** The text of a message's content: a string, or the text parts of an array. */
function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter(
      (p): p is { type: "text"; text: string } => p?.type === "text" && typeof p.text === "string",
    )
    .map((p) => p.text)
    .join(" ");
}

function chatMessages(json: Record<string, unknown>): { role: string; text: string }[] {
  const { messages } = json;
  if (messages === undefined) reject("'messages' is a required property", "messages");
  if (!Array.isArray(messages))
    reject("Invalid type for 'messages': expected an array.", "messages");
  if (messages.length === 0) {
    reject("Invalid 'messages': empty array. Expected an array with minimum length 1.", "messages");
  }
  return messages.map((message: unknown, index) => {
    const role =
      typeof message === "object" && message !== null ? Reflect.get(message, "role") : undefined;
    if (typeof role !== "string") {
      reject(`Missing required parameter: 'messages[${index}].role'.`, `messages[${index}].role`);
    }
    return { role, text: messageText(Reflect.get(message as object, "content")) };
  });
}

/** The tool to call, when the request offers tools and the user asks about the weather. */
function toolToCall(json: Record<string, unknown>, lastUserText: string): string | undefined {
  const { tools, tool_choice: choice } = json;
  if (!Array.isArray(tools) || tools.length === 0 || choice === "none") return undefined;
  if (!/weather/i.test(lastUserText) && typeof choice !== "object") return undefined;
  const named =
    typeof choice === "object" && choice !== null ? Reflect.get(choice, "function") : undefined;
  const name = named?.name ?? tools[0]?.function?.name;
  return typeof name === "string" ? name : undefined;
}

function maxTokensOf(json: Record<string, unknown>): number | undefined {
  if (json.max_tokens != null && json.max_completion_tokens != null) {
    reject(
      "Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported.",
      "max_tokens",
    );
  }
  return (
    optionalInteger(json, "max_tokens", 1, Number.MAX_SAFE_INTEGER) ??
    optionalInteger(json, "max_completion_tokens", 1, Number.MAX_SAFE_INTEGER)
  );
}

/** Sampling parameters reasoning models take only at their default. */
const REASONING_DEFAULTS: Readonly<Record<string, number>> = {
  temperature: 1,
  top_p: 1,
  presence_penalty: 0,
  frequency_penalty: 0,
};

/** Reasoning models refuse `max_tokens`, log probabilities and non-default sampling, one at a time. */
function checkReasoningParameters(json: Record<string, unknown>): void {
  if (json.max_tokens != null) {
    throw new Rejection(azureErrors.unsupportedParameter("max_tokens", "max_completion_tokens"));
  }
  for (const [name, fallback] of Object.entries(REASONING_DEFAULTS)) {
    const value = json[name];
    if (value != null && value !== fallback) {
      throw new Rejection(azureErrors.unsupportedValue(name, value, fallback));
    }
  }
  for (const name of ["logprobs", "top_logprobs", "logit_bias"]) {
    if (json[name] != null) throw new Rejection(azureErrors.unsupportedParameter(name));
  }
}

/** The answer in the form `response_format` asks: a JSON value fitting the schema, or an object. */
function formatted(json: Record<string, unknown>, text: string): string {
  const format = json.response_format;
  if (typeof format !== "object" || format === null) return text;
  const { type, json_schema: spec } = format as Record<string, unknown>;
  if (type === "json_schema" && typeof spec === "object" && spec !== null) {
    return JSON.stringify(sampleOf(Reflect.get(spec, "schema")));
  }
  return type === "json_object" ? JSON.stringify({ answer: text }) : text;
}

function toolParameters(json: Record<string, unknown>, name: string): unknown {
  const tools = Array.isArray(json.tools) ? json.tools : [];
  return tools.find((t) => t?.function?.name === name)?.function?.parameters;
}

const chatCompletions: Handler = (call, context) => {
  const { json } = call;
  const reasoning = servingFamilyOf(call.deployment.model) === "reasoning";
  if (reasoning) checkReasoningParameters(json);
  const messages = chatMessages(json);
  const n = optionalInteger(json, "n", 1, 128) ?? 1;
  const maxTokens = maxTokensOf(json);
  const { stream, includeUsage } = checkStreamFlags(json);
  const lastUserText = messages.findLast((m) => m.role === "user")?.text ?? "";
  checkFiltered([lastUserText]);

  // After a tool's result the model answers in words.
  const toolName = messages.at(-1)?.role === "tool" ? undefined : toolToCall(json, lastUserText);
  const content: ChatContent =
    toolName === undefined
      ? {
          kind: "text",
          text: planText(formatted(json, answerText(call, context, lastUserText)), maxTokens),
        }
      : {
          kind: "tool-call",
          callId: `call_${context.newId()}`,
          name: toolName,
          arguments: JSON.stringify(sampleOf(toolParameters(json, toolName)) ?? {}),
        };
  const answer: ChatAnswer = {
    id: `chatcmpl-${context.newId()}`,
    created: context.now,
    model: call.deployment.model,
    n,
    promptTokens: Math.max(
      1,
      messages.reduce((sum, m) => sum + countWords(m.text), 0),
    ),
    content,
  };
  return stream
    ? { kind: "sse", events: chatStreamEvents(answer, includeUsage) }
    : { kind: "json", status: 200, body: chatCompletionBody(answer) };
};

// ---- legacy completions ----

function isTokenArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((t) => Number.isInteger(t));
}

function completionPrompts(json: Record<string, unknown>): string[] {
  const { prompt } = json;
  if (prompt === undefined || prompt === null) return [""];
  if (typeof prompt === "string") return [prompt];
  if (isTokenArray(prompt)) return [`[${prompt.length} tokens]`];
  if (Array.isArray(prompt) && prompt.length > 0) {
    return prompt.map((p) => {
      if (typeof p === "string") return p;
      if (isTokenArray(p)) return `[${p.length} tokens]`;
      return reject(
        "Invalid type for 'prompt': expected a string, an array of strings or of tokens.",
        "prompt",
      );
    });
  }
  return reject(
    "Invalid type for 'prompt': expected a string, an array of strings or of tokens.",
    "prompt",
  );
}

const completions: Handler = (call, context) => {
  const { json } = call;
  const prompts = completionPrompts(json);
  const n = optionalInteger(json, "n", 1, 128) ?? 1;
  const maxTokens =
    optionalInteger(json, "max_tokens", 0, Number.MAX_SAFE_INTEGER) ??
    LEGACY_COMPLETIONS_DEFAULT_MAX_TOKENS;
  const { stream, includeUsage } = checkStreamFlags(json);
  checkFiltered(prompts);

  const answer: CompletionAnswer = {
    id: `cmpl-${context.newId()}`,
    created: context.now,
    model: call.deployment.model,
    promptCount: prompts.length,
    promptTokens: Math.max(
      1,
      prompts.reduce((sum, p) => sum + countWords(p), 0),
    ),
    choices: prompts.flatMap((prompt) =>
      Array.from({ length: n }, () => planText(answerText(call, context, prompt), maxTokens)),
    ),
  };
  return stream
    ? { kind: "sse", events: completionStreamEvents(answer, includeUsage) }
    : { kind: "json", status: 200, body: completionBody(answer) };
};

// ---- embeddings ----

function embeddingInputs(input: unknown): EmbeddingInput[] {
  const invalid = () =>
    reject(
      "Invalid 'input': expected a non-empty string, or an array of strings or of token arrays.",
      "input",
    );
  if (input === undefined) return reject("'input' is a required property", "input");
  if (typeof input === "string") return input === "" ? invalid() : [input];
  if (isTokenArray(input)) return [input];
  if (!Array.isArray(input) || input.length === 0) return invalid();
  if (input.length > MAX_EMBEDDING_INPUTS) {
    reject(`Too many inputs: at most ${MAX_EMBEDDING_INPUTS} are allowed per request.`, "input");
  }
  return input.map((item) =>
    (typeof item === "string" && item !== "") || isTokenArray(item) ? item : invalid(),
  );
}

const embeddings: Handler = (call) => {
  const { json } = call;
  const inputs = embeddingInputs(json.input);
  const dimensions = optionalInteger(json, "dimensions", 1, MAX_EMBEDDING_DIMENSIONS);
  if (dimensions !== undefined && !call.deployment.model.startsWith("text-embedding-3")) {
    reject("This model does not support specifying dimensions.", "dimensions");
  }
  const encoding = optionalChoice(json, "encoding_format", ["float", "base64"], "float");
  return {
    kind: "json",
    status: 200,
    body: embeddingsBody(
      call.deployment.model,
      inputs,
      dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS,
      encoding,
    ),
  };
};

// ---- images ----

function imagesReply(
  prompt: string,
  n: number,
  format: "url" | "b64_json",
  context: HandlerContext,
): Reply {
  checkFiltered([prompt]);
  const ids = Array.from({ length: n }, () => context.newId());
  return { kind: "json", status: 200, body: imagesBody(context.now, prompt, format, ids) };
}

const IMAGE_FORMATS = ["url", "b64_json"] as const;

const imageGenerations: Handler = (call, context) => {
  const prompt = optionalString(call.json, "prompt");
  if (prompt === undefined || prompt === "") reject("'prompt' is a required property", "prompt");
  const n = optionalInteger(call.json, "n", 1, 10) ?? 1;
  const format = optionalChoice(call.json, "response_format", IMAGE_FORMATS, "b64_json");
  return imagesReply(prompt, n, format, context);
};

const imageEdits: Handler = (call, context) => {
  const form = call.multipart ?? { fields: {}, files: [] };
  if (!form.files.some((f) => f.field === "image" || f.field === "image[]")) {
    reject("'image' is a required property: upload at least one image file.", "image");
  }
  const prompt = form.fields.prompt;
  if (prompt === undefined || prompt === "") reject("'prompt' is a required property", "prompt");
  const fields: Record<string, unknown> = { ...form.fields };
  if (form.fields.n !== undefined) fields.n = Number(form.fields.n);
  const n = optionalInteger(fields, "n", 1, 10) ?? 1;
  const format = optionalChoice(fields, "response_format", IMAGE_FORMATS, "b64_json");
  return imagesReply(prompt, n, format, context);
};

// ---- audio ----

const speech: Handler = (call) => {
  const { json } = call;
  const input = optionalString(json, "input");
  if (input === undefined || input === "") reject("'input' is a required property", "input");
  if (input.length > MAX_SPEECH_INPUT) {
    reject(`Invalid 'input': string too long, at most ${MAX_SPEECH_INPUT} characters.`, "input");
  }
  const voice = optionalString(json, "voice");
  if (voice === undefined || voice === "") reject("'voice' is a required property", "voice");
  const format = optionalString(json, "response_format") ?? "mp3";
  if (!isSpeechFormat(format)) {
    reject(
      `Invalid value for 'response_format': expected one of mp3, opus, aac, flac, wav, pcm, got '${format}'.`,
      "response_format",
    );
  }
  return speechReply(input, format);
};

function audioHandler(task: HeardAudio["task"]): Handler {
  return (call) => {
    const form = call.multipart ?? { fields: {}, files: [] };
    const file = form.files.find((f) => f.field === "file");
    if (file === undefined)
      reject("'file' is a required property: upload the audio as 'file'.", "file");
    const format = form.fields.response_format ?? "json";
    if (!isTranscriptFormat(format)) {
      reject(
        `Invalid value for 'response_format': expected one of ${TRANSCRIPT_FORMATS.join(", ")}, got '${format}'.`,
        "response_format",
      );
    }
    const granularities =
      form.fields["timestamp_granularities[]"] ?? form.fields.timestamp_granularities;
    const audio: HeardAudio = {
      task,
      filename: file.filename,
      size: file.size,
      language: form.fields.language,
      wordTimestamps: granularities?.includes("word") ?? false,
    };
    return transcriptReply(audio, format);
  };
}

const HANDLERS: Record<InferenceOp, Handler> = {
  "chat/completions": chatCompletions,
  completions,
  embeddings,
  "images/generations": imageGenerations,
  "images/edits": imageEdits,
  "audio/speech": speech,
  "audio/transcriptions": audioHandler("transcribe"),
  "audio/translations": audioHandler("translate"),
};

/** The answer a deployment gives to a call: its result, or the Azure error it raises. */
export function answerInference(call: InferenceCall, context: HandlerContext): Reply {
  try {
    return HANDLERS[call.op](call, context);
  } catch (error) {
    if (error instanceof Rejection) return errorReply(error.error);
    throw error;
  }
}
