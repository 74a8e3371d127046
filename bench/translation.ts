/**
 * CPU cost of the chat translations (issue 8 asks at most 50 µs per translated request and 5 µs per
 * translated stream event): `node bench/translation.ts`. Pure functions, no sockets.
 */
import { chatExchangeFor } from "../src/adapters/chat-exchange.ts";

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

function cpu(label: string, n: number, fn: () => void) {
  for (let i = 0; i < 2000; i++) fn();
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const used = process.cpuUsage(start);
  console.log(`${label}: ${((used.user + used.system) / n).toFixed(2)} µs CPU per op`);
}

for (const family of ["responses-only", "anthropic"] as const) {
  const answer = family === "anthropic" ? anthropicAnswer : responsesAnswer;
  cpu(`${family}: parse + request + answer`, 20000, () => {
    const exchange = chatExchangeFor({ family, defaultMaxTokens: 4096 });
    const t = exchange.requestBody(JSON.parse(body.toString()), "dep");
    Buffer.from(JSON.stringify(t.body));
    JSON.stringify(exchange.responseBody(JSON.parse(answer)));
  });
}
const rEvent = Buffer.from(
  `event: response.output_text.delta\ndata: ${JSON.stringify({ type: "response.output_text.delta", sequence_number: 5, item_id: "m", output_index: 1, content_index: 0, delta: " sunny", logprobs: [] })}\n\n`,
);
const aEvent = Buffer.from(
  `event: content_block_delta\ndata: ${JSON.stringify({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: " sunny" } })}\n\n`,
);
for (const [family, ev] of [
  ["responses-only", rEvent],
  ["anthropic", aEvent],
] as const) {
  const exchange = chatExchangeFor({ family, defaultMaxTokens: 4096 });
  exchange.requestBody({ messages: [{ role: "user", content: "x" }], stream: true }, "d");
  const t = exchange.streamTranslator();
  cpu(`${family}: one stream event`, 200000, () => {
    t?.push(ev);
  });
}
