/**
 * An app that knows nothing of the proxy: the official SDK with its default base URL
 * (https://api.openai.com/v1). Run by openai-sdk-forward.test.ts with HTTPS_PROXY,
 * NODE_USE_ENV_PROXY=1 and NODE_EXTRA_CA_CERTS; prints what it got as one JSON line.
 */
import OpenAI, { toFile } from "openai";

const client = new OpenAI({ maxRetries: 0, timeout: 20_000 });

const chat = await client.chat.completions.create({
  model: "gpt-4o",
  messages: [{ role: "user", content: "Say hello" }],
});

const events: string[] = [];
const stream = await client.chat.completions.create({
  model: "gpt-4o",
  messages: [{ role: "user", content: "Say hello" }],
  stream: true,
});
for await (const chunk of stream) events.push(chunk.choices[0]?.delta?.content ?? "");

const audio = Buffer.alloc(4096, 7);
const transcription = await client.audio.transcriptions.create({
  file: await toFile(audio, "hello.wav", { type: "audio/wav" }),
  model: "whisper-1",
});

const models: string[] = [];
for await (const model of client.models.list()) models.push(model.id);

process.stdout.write(
  `${JSON.stringify({
    baseURL: client.baseURL,
    chat: chat.choices[0]?.message.content,
    streamed: events.join(""),
    chunks: events.length,
    transcription: transcription.text,
    models,
  })}\n`,
);
