/**
 * What travels in the benchmark: the client's requests (as the official openai SDK sends them)
 * and the fake Azure's answers (as Azure sends them), built once.
 */

export const API_VERSION = "2025-04-01-preview";
export const AZURE_KEY = "bench-azure-key-0123456789abcdef";
export const CLIENT_KEY = "sk-bench-client-key";
export const CHAT_MODEL = "gpt-4o";
export const CHAT_DEPLOYMENT = "gpt-4o";
export const AUDIO_MODEL = "whisper-1";
export const AUDIO_DEPLOYMENT = "whisper";

export const OPENAI_CHAT_PATH = "/v1/chat/completions";
export const OPENAI_TRANSCRIBE_PATH = "/v1/audio/transcriptions";
export const AZURE_CHAT_PATH = `/openai/deployments/${CHAT_DEPLOYMENT}/chat/completions?api-version=${API_VERSION}`;
export const AZURE_TRANSCRIBE_PATH = `/openai/deployments/${AUDIO_DEPLOYMENT}/audio/transcriptions?api-version=${API_VERSION}`;

/** Header the fake reads to answer with a stream: `<chunks>;<interval ms>`. */
export const STREAM_HEADER = "x-bench-stream";

/** The headers openai-node sends with every request (the credential is added per contender). */
export const SDK_HEADERS: Readonly<Record<string, string>> = {
  accept: "application/json",
  "content-type": "application/json",
  "user-agent": "OpenAI/JS 5.10.1",
  "x-stainless-arch": "x64",
  "x-stainless-lang": "js",
  "x-stainless-os": "Linux",
  "x-stainless-package-version": "5.10.1",
  "x-stainless-retry-count": "0",
  "x-stainless-runtime": "node",
  "x-stainless-runtime-version": "v22.17.0",
  "x-stainless-timeout": "600",
};

/** A ~1 KB chat request. */
export function chatBody(stream: boolean): Buffer {
  const body = {
    model: CHAT_MODEL,
    messages: [
      {
        role: "system",
        content:
          "You are a helpful assistant for a support team. Answer briefly, cite the relevant policy section when you can, and ask a clarifying question when the request is ambiguous.",
      },
      {
        role: "user",
        content:
          "Our customer says the invoice for October was charged twice to the same card. The payment processor shows one capture and one authorisation that was later voided. What should I tell them, and which internal form do I file so that finance can double-check the ledger entries for that account before the month closes?",
      },
    ],
    temperature: 0.2,
    top_p: 1,
    max_tokens: 512,
    presence_penalty: 0,
    frequency_penalty: 0,
    user: "support-agent-42",
    stream,
    ...(stream ? { stream_options: { include_usage: false } } : {}),
  };
  let text = JSON.stringify(body);
  // Pad the user turn to ~1 KB.
  const pad = 1024 - Buffer.byteLength(text);
  if (pad > 0) {
    body.messages[1] = {
      role: "user",
      content: `${body.messages[1]?.content ?? ""} ${"Thanks a lot. ".repeat(Math.ceil(pad / 14)).slice(0, pad - 1)}`,
    };
    text = JSON.stringify(body);
  }
  return Buffer.from(text);
}

/** A big JSON chat body (`bytes` long, give or take a few), made of 1 MB turns. */
export function bigChatBody(bytes: number): Buffer {
  const turn = 1024 * 1024;
  const count = Math.max(1, Math.round(bytes / turn));
  const word = "lorem ipsum dolor sit amet, consectetur adipiscing elit. ";
  const content = word.repeat(Math.ceil(turn / word.length)).slice(0, turn - 40);
  const messages = Array.from({ length: count }, (_, i) => ({
    role: i % 2 === 0 ? "user" : "assistant",
    content,
  }));
  return Buffer.from(JSON.stringify({ model: CHAT_MODEL, messages, max_tokens: 16 }));
}

const FILTERS = {
  hate: { filtered: false, severity: "safe" },
  self_harm: { filtered: false, severity: "safe" },
  sexual: { filtered: false, severity: "safe" },
  violence: { filtered: false, severity: "safe" },
};

const CREATED = 1732600000;
const ID = "chatcmpl-AXbEnchMark0123456789abcdefghij";
const MODEL = "gpt-4o-2024-11-20";
const FINGERPRINT = "fp_04751d0b65";

/** A ~1 KB chat.completion, as Azure answers it. */
export const CHAT_ANSWER = Buffer.from(
  JSON.stringify({
    choices: [
      {
        content_filter_results: FILTERS,
        finish_reason: "stop",
        index: 0,
        logprobs: null,
        message: {
          annotations: [],
          content:
            "Tell the customer that only one charge went through: the second entry is an authorisation that was voided and will drop off their statement within a few days. File form FIN-7 (ledger review) so finance checks the entries before the close.",
          refusal: null,
          role: "assistant",
        },
      },
    ],
    created: CREATED,
    id: ID,
    model: MODEL,
    object: "chat.completion",
    prompt_filter_results: [
      {
        prompt_index: 0,
        content_filter_results: {
          ...FILTERS,
          jailbreak: { filtered: false, detected: false },
        },
      },
    ],
    system_fingerprint: FINGERPRINT,
    usage: {
      completion_tokens: 52,
      completion_tokens_details: { accepted_prediction_tokens: 0, reasoning_tokens: 0 },
      prompt_tokens: 231,
      prompt_tokens_details: { cached_tokens: 0 },
      total_tokens: 283,
    },
  }),
);

/** Response headers as Azure sends them (content-type and length added per answer). */
export const AZURE_HEADERS: Readonly<Record<string, string>> = {
  "apim-request-id": "6f1c2b7e-3a4d-4e5f-8a9b-0c1d2e3f4a5b",
  "x-request-id": "0b9e3c1a-7d2f-4c8e-9a1b-2c3d4e5f6a7b",
  "x-ms-region": "Sweden Central",
  "x-ms-client-request-id": "Not-Set",
  "x-ms-deployment-name": CHAT_DEPLOYMENT,
  "x-ms-rai-invoked": "true",
  "azureml-model-session": "d194-20250101000000",
  "x-ratelimit-limit-requests": "10000",
  "x-ratelimit-remaining-requests": "9999",
  "x-ratelimit-limit-tokens": "1000000",
  "x-ratelimit-remaining-tokens": "999717",
  "x-content-type-options": "nosniff",
  "strict-transport-security": "max-age=31536000; includeSubDomains; preload",
};

/** Azure's first stream event: empty choices, prompt filter results (an artefact for OpenAI clients). */
export const PROMPT_FILTER_EVENT = Buffer.from(
  `data: ${JSON.stringify({
    choices: [],
    created: 0,
    id: "",
    model: "",
    object: "",
    prompt_filter_results: [
      {
        prompt_index: 0,
        content_filter_results: { ...FILTERS, jailbreak: { filtered: false, detected: false } },
      },
    ],
  })}\n\n`,
);

/** Content event `index` (1-based) of `count`; the last carries finish_reason. */
export function contentEvent(index: number, count: number): Buffer {
  const last = index === count;
  const delta =
    index === 1
      ? { content: "", refusal: null, role: "assistant" }
      : last
        ? {}
        : { content: ` word${index}` };
  return Buffer.from(
    `data: ${JSON.stringify({
      choices: [
        {
          content_filter_results: last || index === 1 ? {} : FILTERS,
          delta,
          finish_reason: last ? "stop" : null,
          index: 0,
          logprobs: null,
        },
      ],
      created: CREATED,
      id: ID,
      model: MODEL,
      object: "chat.completion.chunk",
      system_fingerprint: FINGERPRINT,
    })}\n\n`,
  );
}

export const DONE_EVENT = Buffer.from("data: [DONE]\n\n");

/** Multipart framing for an upload with the `model` field first (as the Python SDK sends it) or last (Node SDK). */
export function multipartFrame(modelFirst: boolean): {
  boundary: string;
  head: Buffer;
  tail: Buffer;
} {
  const boundary = "----benchBoundary7MA4YWxkTrZu0gW";
  const field = (name: string, value: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const fileHead = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="meeting.mp3"\r\nContent-Type: audio/mpeg\r\n\r\n`;
  const fields = field("model", AUDIO_MODEL) + field("response_format", "json");
  const head = modelFirst ? fields + fileHead : fileHead;
  const tail = modelFirst ? `\r\n--${boundary}--\r\n` : `\r\n${fields}--${boundary}--\r\n`;
  return { boundary, head: Buffer.from(head), tail: Buffer.from(tail) };
}
