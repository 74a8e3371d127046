/**
 * CPU cost of the chat translations (issue 8 asks at most 50 µs per translated request and 5 µs per
 * translated stream event), beside what the untranslated path does with the same request in the
 * same run: the `translation` scenario of `npm run bench`, or `node bench/translation.ts` alone.
 * Pure functions, no sockets.
 */
import { chatExchangeFor } from "../src/adapters/chat-exchange.ts";
import { readJsonBody, replaceJsonModel } from "../src/proxy/json-body.ts";
import { AzureArtefactFilter } from "../src/proxy/sse.ts";

const chat = {
  model: "gpt-5-codex",
  messages: [
    { role: "system", content: "You are a helpful assistant. Answer briefly." },
    { role: "user", content: "What is the weather in Paris today? Please check." },
    {
      role: "assistant",
      content: null,
      tool_calls: [
        {
          id: "call_1",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Paris"}' },
        },
      ],
    },
    { role: "tool", tool_call_id: "call_1", content: "18C and sunny" },
  ],
  tools: [
    {
      type: "function",
      function: {
        name: "get_weather",
        description: "Weather",
        parameters: {
          type: "object",
          properties: { city: { type: "string" } },
          required: ["city"],
        },
      },
    },
  ],
  max_tokens: 500,
  temperature: 0.7,
  stream: false,
};
const responsesAnswer = JSON.stringify({
  id: "resp_1",
  object: "response",
  created_at: 1,
  model: "gpt-5-codex",
  status: "completed",
  output: [
    { type: "reasoning", id: "rs", summary: [] },
    {
      type: "message",
      id: "m",
      role: "assistant",
      content: [
        { type: "output_text", text: "It is 18C and sunny in Paris today.", annotations: [] },
      ],
    },
  ],
  usage: {
    input_tokens: 50,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 12,
    output_tokens_details: { reasoning_tokens: 4 },
    total_tokens: 62,
  },
});
const anthropicAnswer = JSON.stringify({
  id: "msg_1",
  type: "message",
  role: "assistant",
  model: "claude",
  content: [{ type: "text", text: "It is 18C and sunny in Paris today." }],
  stop_reason: "end_turn",
  usage: { input_tokens: 50, output_tokens: 12 },
});
const body = Buffer.from(JSON.stringify(chat));

/** CPU µs per call of `fn`, after a warm-up. */
function cpu(n: number, fn: () => void): number {
  for (let i = 0; i < 2000; i++) fn();
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

export interface TranslationCost {
  /** µs per non-streamed request: read, translated, answer translated back. */
  readonly request: Record<"plain" | "responses" | "anthropic", number>;
  /** µs per stream event. */
  readonly event: Record<"plain" | "responses" | "anthropic", number>;
}

const rEvent = Buffer.from(
  `event: response.output_text.delta\ndata: ${JSON.stringify({ type: "response.output_text.delta", sequence_number: 5, item_id: "m", output_index: 1, content_index: 0, delta: " sunny", logprobs: [] })}\n\n`,
);
const aEvent = Buffer.from(
  `event: content_block_delta\ndata: ${JSON.stringify({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: " sunny" } })}\n\n`,
);
const chatEvent = Buffer.from(
  `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "gpt-4o", choices: [{ index: 0, delta: { content: " sunny" }, finish_reason: null, content_filter_results: {} }] })}\n\n`,
);

/** Measures the translated paths and the untranslated one, in this process. */
export function measureTranslation(scale = 1): TranslationCost {
  const requests = Math.max(2000, Math.round(20000 * scale));
  const events = Math.max(20000, Math.round(200000 * scale));
  const translated = (family: "responses-only" | "anthropic") => {
    const answer = family === "anthropic" ? anthropicAnswer : responsesAnswer;
    return cpu(requests, () => {
      const exchange = chatExchangeFor({ family, defaultMaxTokens: 4096 });
      const t = exchange.requestBody(JSON.parse(body.toString()), "dep");
      Buffer.from(JSON.stringify(t.body));
      JSON.stringify(exchange.responseBody(JSON.parse(answer)));
    });
  };
  const streamed = (family: "responses-only" | "anthropic", event: Buffer) => {
    const exchange = chatExchangeFor({ family, defaultMaxTokens: 4096 });
    exchange.requestBody({ messages: [{ role: "user", content: "x" }], stream: true }, "d");
    const t = exchange.streamTranslator();
    return cpu(events, () => {
      t?.push(event);
    });
  };
  // The untranslated path: the body is scanned for model/stream and its model replaced (v1);
  // stream events pass the artefact filter.
  const plainRequest = cpu(requests, () => {
    readJsonBody(body);
    replaceJsonModel(body, "dep");
  });
  const filter = new AzureArtefactFilter();
  const plainEvent = cpu(events, () => {
    filter.push(chatEvent);
  });
  return {
    request: {
      plain: plainRequest,
      responses: translated("responses-only"),
      anthropic: translated("anthropic"),
    },
    event: {
      plain: plainEvent,
      responses: streamed("responses-only", rEvent),
      anthropic: streamed("anthropic", aEvent),
    },
  };
}

if (import.meta.main) {
  const cost = measureTranslation();
  for (const [kind, values] of Object.entries(cost)) {
    for (const [path, us] of Object.entries(values)) {
      console.log(`${kind} ${path}: ${(us as number).toFixed(2)} µs CPU`);
    }
  }
}
