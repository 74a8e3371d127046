/**
 * The official `openai` SDK against the real proxy in front of the Azure OpenAI emulator, for
 * every endpoint the proxy serves, in both Azure API styles (dated and v1). Each test checks
 * what the client got and what Azure (the emulator) received.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  countWords,
  embeddingVector,
  greeting,
  planText,
  TINY_PNG_BASE64,
} from "@azure-oai-proxy/emulator/answers";
import { heardText, speechAudio } from "@azure-oai-proxy/emulator/audio";
import { FORBIDDEN_WORD } from "@azure-oai-proxy/emulator/handlers";
import OpenAI, { toFile, toStreamingFile } from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import type { Completion } from "openai/resources/completions";
import { type Stack, startStack } from "../helpers/stack.ts";
import {
  assertUpstream,
  inferenceCount,
  received,
  STYLE_ENV,
  STYLES,
  sdkClient,
  sdkError,
  sha256,
  testBytes,
  upstreamPath,
} from "./sdk-harness.ts";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const MB = 1024 * 1024;

/** A chunk as JSON, to look at fields the SDK's types do not declare (Azure's artefacts). */
function raw(chunk: unknown): Record<string, unknown> & { choices: Record<string, unknown>[] } {
  return chunk as Record<string, unknown> & { choices: Record<string, unknown>[] };
}

function isUsageChunk(chunk: { choices: unknown[]; usage?: unknown }): boolean {
  return chunk.choices.length === 0 && chunk.usage != null;
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

/** Chunks an OpenAI client can rely on: an id, and choices unless it is the usage chunk. */
function assertOpenAIShapedChunks(
  chunks: readonly (ChatCompletionChunk | Completion)[],
  object: string,
): void {
  for (const [index, chunk] of chunks.entries()) {
    const where = `chunk ${index}: ${JSON.stringify(chunk)}`;
    assert.notEqual(chunk.id, "", `empty id in ${where}`);
    assert.equal(chunk.object, object, where);
    assert.ok(chunk.choices.length > 0 || isUsageChunk(chunk), `empty choices in ${where}`);
    assert.equal(raw(chunk).prompt_filter_results, undefined, where);
    for (const choice of raw(chunk).choices) {
      assert.equal(choice.content_filter_offsets, undefined, `annotation-only ${where}`);
    }
  }
  assert.equal(new Set(chunks.map((c) => c.id)).size, 1, "one id for the whole stream");
}

for (const style of STYLES) {
  describe(`the OpenAI SDK through the proxy, ${style} style`, () => {
    let stack: Stack;
    let client: OpenAI;
    before(async () => {
      stack = await startStack({ env: STYLE_ENV[style] });
      client = sdkClient(stack);
    });
    after(() => stack.close());

    /** Checks the last `op` request Azure got: path, style, mapped deployment, key, model. */
    const upstream = (
      op: string,
      deployment: string,
      clientModel: string,
      body: "json" | "multipart" = "json",
    ) => assertUpstream(received(stack, op), { style, op, deployment, clientModel, body });

    // ---- chat completions ----

    it(`answers chat for gpt-3.5-turbo from the gpt-35-turbo deployment (${style})`, async () => {
      const said = "Hello proxy, what can you do?";
      const completion = await client.chat.completions.create({
        model: "gpt-3.5-turbo",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: said },
        ],
      });
      const text = greeting("gpt-35-turbo", said);
      assert.equal(completion.object, "chat.completion");
      assert.match(completion.id, /^chatcmpl-/);
      assert.equal(completion.model, "gpt-35-turbo");
      assert.equal(completion.choices.length, 1);
      const choice = completion.choices[0];
      assert.equal(choice?.index, 0);
      assert.equal(choice?.message.role, "assistant");
      assert.equal(choice?.message.content, text);
      assert.equal(choice?.finish_reason, "stop");
      const promptTokens = countWords("Be brief.") + countWords(said);
      assert.equal(completion.usage?.prompt_tokens, promptTokens);
      assert.equal(completion.usage?.completion_tokens, countWords(text));
      assert.equal(completion.usage?.total_tokens, promptTokens + countWords(text));
      upstream("chat/completions", "gpt-35-turbo", "gpt-3.5-turbo");
    });

    it(`keeps non-ASCII text intact in chat requests and answers (${style})`, async () => {
      const said = "Grüße 👋 日本語 «ok»";
      const completion = await client.chat.completions.create({
        model: "gpt-3.5-turbo",
        messages: [{ role: "user", content: said }],
      });
      assert.equal(completion.choices[0]?.message.content, greeting("gpt-35-turbo", said));
      const sent = received(stack, "chat/completions").json as { messages: { content: string }[] };
      assert.equal(sent.messages[0]?.content, said);
      upstream("chat/completions", "gpt-35-turbo", "gpt-3.5-turbo");
    });

    it(`cuts chat at max_tokens with finish_reason length for every choice (${style})`, async () => {
      const completion = await client.chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "Tell me a long story" }],
        max_tokens: 3,
        n: 2,
      });
      const expected = planText(greeting("gpt-4o", "Tell me a long story"), 3).pieces.join("");
      assert.deepEqual(
        completion.choices.map((c) => [c.index, c.message.content, c.finish_reason]),
        [
          [0, expected, "length"],
          [1, expected, "length"],
        ],
      );
      assert.equal(completion.usage?.completion_tokens, 6);
      upstream("chat/completions", "gpt-4o", "gpt-4o");
    });

    it(`streams chat deltas in order through the ${style} style, usage last`, async () => {
      const said = "Stream me a greeting please";
      const stream = await client.chat.completions.create({
        model: "gpt-3.5-turbo",
        messages: [{ role: "user", content: said }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = await collect(stream);
      assertOpenAIShapedChunks(chunks, "chat.completion.chunk");

      const text = greeting("gpt-35-turbo", said);
      const deltas = chunks.flatMap((c) => c.choices.map((choice) => choice.delta.content ?? ""));
      assert.deepEqual(
        deltas.filter((d) => d !== ""),
        planText(text).pieces,
        "one delta per word, in order",
      );
      assert.equal(deltas.join(""), text);
      assert.equal(chunks[0]?.choices[0]?.delta.role, "assistant", "the role comes first");

      const finishes = chunks.flatMap((c) => c.choices.map((choice) => choice.finish_reason));
      assert.deepEqual(
        finishes.filter((f) => f !== null),
        ["stop"],
      );
      const last = chunks.at(-1);
      assert.ok(last !== undefined && isUsageChunk(last), "the usage chunk comes last");
      assert.equal(last.usage?.completion_tokens, countWords(text));
      assert.equal(last.usage?.prompt_tokens, countWords(said));
      assert.equal(chunks.filter((c) => c.usage != null).length, 1);
      assert.equal(last.model, "gpt-35-turbo");
      upstream("chat/completions", "gpt-35-turbo", "gpt-3.5-turbo");
      assert.deepEqual(
        (received(stack, "chat/completions").json as { stream?: unknown }).stream,
        true,
      );
    });

    it(`streams chat without usage when include_usage is not asked for (${style})`, async () => {
      const stream = await client.chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "Hi" }],
        stream: true,
      });
      const chunks = await collect(stream);
      assertOpenAIShapedChunks(chunks, "chat.completion.chunk");
      assert.ok(chunks.every((c) => c.usage == null && c.choices.length === 1));
      assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, "stop");
      assert.equal(
        chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""),
        greeting("gpt-4o", "Hi"),
      );
    });

    it(`lets the SDK's stream helper assemble the final chat completion (${style})`, async () => {
      const said = "Use the helper";
      const runner = client.chat.completions.stream({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: said }],
        stream_options: { include_usage: true },
      });
      const pieces: string[] = [];
      runner.on("content", (delta) => pieces.push(delta));
      const final = await runner.finalChatCompletion();
      const text = greeting("gpt-4o-mini", said);
      assert.equal(pieces.join(""), text);
      assert.equal(final.choices[0]?.message.content, text);
      assert.equal(final.choices[0]?.finish_reason, "stop");
      assert.equal(final.usage?.completion_tokens, countWords(text));
      upstream("chat/completions", "gpt-4o-mini", "gpt-4o-mini");
    });

    it(`streams a tool call the SDK assembles into name and arguments (${style})`, async () => {
      const runner = client.chat.completions.stream({
        model: "gpt-4o",
        messages: [{ role: "user", content: "What is the weather in Paris?" }],
        tools: [
          {
            type: "function",
            function: {
              name: "get_weather",
              parameters: { type: "object", properties: { city: { type: "string" } } },
            },
          },
        ],
      });
      const final = await runner.finalChatCompletion();
      const choice = final.choices[0];
      assert.equal(choice?.finish_reason, "tool_calls");
      const call = choice?.message.tool_calls?.[0];
      assert.equal(call?.type, "function");
      assert.match(call?.id ?? "", /^call_/);
      assert.equal(call?.type === "function" ? call.function.name : undefined, "get_weather");
      assert.equal(
        call?.type === "function" ? call.function.arguments : undefined,
        '{"city":"emulator"}',
      );
    });

    // ---- legacy completions ----

    it(`answers legacy completions for gpt-3.5-turbo-instruct (${style})`, async () => {
      const completion = await client.completions.create({
        model: "gpt-3.5-turbo-instruct",
        prompt: "Say hi",
        max_tokens: 64,
      });
      const text = greeting("gpt-35-turbo-instruct", "Say hi");
      assert.equal(completion.object, "text_completion");
      assert.match(completion.id, /^cmpl-/);
      assert.equal(completion.choices[0]?.text, text);
      assert.equal(completion.choices[0]?.finish_reason, "stop");
      assert.equal(completion.usage?.completion_tokens, countWords(text));
      assert.equal(completion.usage?.prompt_tokens, 2);
      upstream("completions", "gpt-35-turbo-instruct", "gpt-3.5-turbo-instruct");
    });

    it(`streams legacy completion text in order through the ${style} style`, async () => {
      const stream = await client.completions.create({
        model: "gpt-3.5-turbo-instruct",
        prompt: "Stream please",
        max_tokens: 64,
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = await collect(stream);
      assertOpenAIShapedChunks(chunks, "text_completion");
      const text = greeting("gpt-35-turbo-instruct", "Stream please");
      const pieces = chunks.flatMap((c) => c.choices.map((choice) => choice.text));
      assert.deepEqual(
        pieces.filter((p) => p !== ""),
        planText(text).pieces,
      );
      const finishes = chunks.flatMap((c) => c.choices.map((choice) => choice.finish_reason));
      assert.deepEqual(
        finishes.filter((f) => f != null),
        ["stop"],
      );
      const last = chunks.at(-1);
      assert.ok(last !== undefined && isUsageChunk(last), "the usage chunk comes last");
      assert.equal(last.usage?.completion_tokens, countWords(text));
      upstream("completions", "gpt-35-turbo-instruct", "gpt-3.5-turbo-instruct");
    });

    // ---- embeddings ----

    it(`decodes base64 embeddings into the emulator's vectors (${style})`, async () => {
      const inputs = ["the first text", "and a second one"];
      const result = await client.embeddings.create({
        model: "text-embedding-3-small",
        input: inputs,
        dimensions: 16,
      });
      assert.equal(result.object, "list");
      assert.equal(result.model, "text-embedding-3-small");
      assert.equal(result.data.length, 2);
      for (const [index, input] of inputs.entries()) {
        const item = result.data[index];
        assert.equal(item?.index, index);
        assert.equal(item?.object, "embedding");
        assert.deepEqual(Array.from(item?.embedding ?? []), embeddingVector(input, 16));
      }
      assert.equal(result.usage.prompt_tokens, 7);
      upstream("embeddings", "text-embedding-3-small-1", "text-embedding-3-small");
      const sent = received(stack, "embeddings").json as Record<string, unknown>;
      assert.equal(sent.encoding_format, "base64", "the SDK asked for base64 on the wire");
      assert.equal(sent.dimensions, 16);
    });

    it(`returns float embeddings when the client asks for them (${style})`, async () => {
      const result = await client.embeddings.create({
        model: "text-embedding-ada-002",
        input: "plain floats",
        encoding_format: "float",
      });
      assert.equal(result.model, "text-embedding-ada-002");
      assert.deepEqual(result.data[0]?.embedding, embeddingVector("plain floats", 8));
      upstream("embeddings", "text-embedding-ada-002", "text-embedding-ada-002");
    });

    // ---- images ----

    it(`generates an image as b64_json with dall-e-3 (${style})`, async () => {
      const result = await client.images.generate({
        model: "dall-e-3",
        prompt: "A lighthouse at dawn",
        response_format: "b64_json",
        size: "1024x1024",
      });
      assert.equal(typeof result.created, "number");
      assert.equal(result.data?.length, 1);
      const image = result.data?.[0];
      assert.equal(image?.b64_json, TINY_PNG_BASE64);
      const png = Buffer.from(image?.b64_json ?? "", "base64");
      assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
      assert.equal(image?.revised_prompt, "An emulated image of: A lighthouse at dawn");
      upstream("images/generations", "dall-e-3", "dall-e-3");
    });

    it(`uploads an image edit with the image untouched (${style})`, async () => {
      const png = Buffer.concat([Buffer.from(TINY_PNG_BASE64, "base64"), testBytes(200_000)]);
      const result = await client.images.edit({
        image: await toFile(png, "input.png", { type: "image/png" }),
        prompt: "Add a red hat",
        model: "gpt-image-1",
      });
      assert.equal(result.data?.[0]?.b64_json, TINY_PNG_BASE64);
      upstream("images/edits", "gpt-image-1", "gpt-image-1", "multipart");
      const form = received(stack, "images/edits").multipart;
      assert.equal(form?.fields.prompt, "Add a red hat");
      const file = form?.files[0];
      assert.ok(file?.field === "image" || file?.field === "image[]", `field ${file?.field}`);
      assert.equal(file?.filename, "input.png");
      assert.equal(file?.size, png.length);
      assert.equal(file?.sha256, sha256(png));
    });

    // ---- audio: speech ----

    it(`returns tts-1 speech as mp3 bytes from the tts deployment (${style})`, async () => {
      const input = "Hello from the speech endpoint.";
      const response = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input });
      assert.equal(response.headers.get("content-type"), "audio/mpeg");
      const audio = Buffer.from(await response.arrayBuffer());
      assert.ok(audio.length > 0);
      assert.deepEqual(audio, speechAudio(input, "mp3"));
      upstream("audio/speech", "tts", "tts-1");
    });

    it(`returns tts-1-hd speech in the requested wav format (${style})`, async () => {
      const input = "High definition.";
      const response = await client.audio.speech.create({
        model: "tts-1-hd",
        voice: "nova",
        input,
        response_format: "wav",
      });
      assert.equal(response.headers.get("content-type"), "audio/wav");
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), speechAudio(input, "wav"));
      upstream("audio/speech", "tts-hd", "tts-1-hd");
    });

    // ---- audio: transcriptions and translations ----

    const audio = testBytes(96_000, "audio");
    const heard = (task: "transcribe" | "translate", filename: string, size: number) =>
      heardText({ task, filename, size, wordTimestamps: false });

    it(`sends whisper-1 uploads to the whisper deployment with the file untouched (${style})`, async () => {
      const result = await client.audio.transcriptions.create({
        file: await toFile(audio, "hello.wav", { type: "audio/wav" }),
        model: "whisper-1",
      });
      assert.equal(result.text, heard("transcribe", "hello.wav", audio.length));
      upstream("audio/transcriptions", "whisper", "whisper-1", "multipart");
      const file = received(stack, "audio/transcriptions").multipart?.files[0];
      assert.equal(file?.field, "file");
      assert.equal(file?.filename, "hello.wav");
      assert.equal(file?.size, audio.length);
      assert.equal(file?.sha256, sha256(audio));
    });

    it(`returns transcripts as plain text and as srt (${style})`, async () => {
      const text = heard("transcribe", "hello.wav", audio.length);
      const plain = await client.audio.transcriptions.create({
        file: await toFile(audio, "hello.wav", { type: "audio/wav" }),
        model: "whisper-1",
        response_format: "text",
      });
      assert.equal(typeof plain, "string");
      assert.equal(plain.trim(), text);
      assert.equal(
        received(stack, "audio/transcriptions").multipart?.fields.response_format,
        "text",
      );

      const srt = await client.audio.transcriptions.create({
        file: await toFile(audio, "hello.wav", { type: "audio/wav" }),
        model: "whisper-1",
        response_format: "srt",
      });
      assert.equal(typeof srt, "string");
      assert.match(srt, /^1\n00:00:00,000 --> \d\d:\d\d:\d\d,\d{3}\n/);
      assert.equal(srt.split("\n")[2], text);
      upstream("audio/transcriptions", "whisper", "whisper-1", "multipart");
    });

    it(`returns verbose_json transcripts with segments and word timestamps (${style})`, async () => {
      const result = await client.audio.transcriptions.create({
        file: await toFile(audio, "bonjour.wav", { type: "audio/wav" }),
        model: "whisper-1",
        response_format: "verbose_json",
        language: "fr",
        timestamp_granularities: ["word"],
      });
      const text = heard("transcribe", "bonjour.wav", audio.length);
      assert.equal(result.text, text);
      assert.equal(result.language, "french");
      assert.equal(result.duration, 3);
      assert.equal(result.segments?.length, 1);
      assert.equal(result.segments?.[0]?.text, text);
      assert.deepEqual(
        result.words?.map((w) => w.word),
        text.split(" "),
      );
      assert.equal(result.words?.at(-1)?.end, 3);
      const form = received(stack, "audio/transcriptions").multipart;
      assert.equal(form?.fields.language, "fr");
      assert.equal(form?.fields["timestamp_granularities[]"], "word");
    });

    it(`forwards a 6 MB upload placed before the model field byte for byte (${style})`, async () => {
      const big = testBytes(6 * MB, "big");
      // The Node SDK writes fields in key order: the file goes first, `model` last.
      const result = await client.audio.transcriptions.create({
        file: await toFile(big, "long-meeting.wav", { type: "audio/wav" }),
        model: "whisper-1",
      });
      assert.equal(result.text, heard("transcribe", "long-meeting.wav", big.length));
      upstream("audio/transcriptions", "whisper", "whisper-1", "multipart");
      const request = received(stack, "audio/transcriptions");
      const file = request.multipart?.files[0];
      assert.equal(file?.size, big.length);
      assert.equal(file?.sha256, sha256(big));
      assert.equal(request.aborted, false);
    });

    it(`forwards an upload of unknown length streamed by the SDK (${style})`, async () => {
      const parts = [testBytes(300_000, "s1"), testBytes(500_000, "s2"), testBytes(7, "s3")];
      const whole = Buffer.concat(parts);
      async function* chunks() {
        for (const part of parts) yield part;
      }
      const result = await client.audio.transcriptions.create({
        file: toStreamingFile(chunks(), "streamed.wav", { type: "audio/wav" }),
        model: "whisper-1",
      });
      assert.equal(result.text, heard("transcribe", "streamed.wav", whole.length));
      upstream("audio/transcriptions", "whisper", "whisper-1", "multipart");
      const file = received(stack, "audio/transcriptions").multipart?.files[0];
      assert.equal(file?.size, whole.length);
      assert.equal(file?.sha256, sha256(whole));
    });

    it(`translates a 3.5 MB whisper-1 upload placed before the model field (${style})`, async () => {
      const speech = testBytes(3.5 * MB, "speech");
      const result = await client.audio.translations.create({
        file: await toFile(speech, "rede.mp3", { type: "audio/mpeg" }),
        model: "whisper-1",
      });
      assert.equal(result.text, heard("translate", "rede.mp3", speech.length));
      upstream("audio/translations", "whisper", "whisper-1", "multipart");
      const file = received(stack, "audio/translations").multipart?.files[0];
      assert.equal(file?.size, speech.length);
      assert.equal(file?.sha256, sha256(speech));

      // The SDK's types do not narrow translations by format; at run time "text" is a string.
      const plain: unknown = await client.audio.translations.create({
        file: await toFile(audio, "kurz.mp3", { type: "audio/mpeg" }),
        model: "whisper-1",
        response_format: "text",
      });
      assert.equal(typeof plain, "string");
      assert.equal(String(plain).trim(), heard("translate", "kurz.mp3", audio.length));
    });

    // ---- models ----

    it(`lists deployments and the OpenAI names that reach them (${style})`, async () => {
      const ids: string[] = [];
      for await (const model of client.models.list()) {
        assert.equal(model.object, "model");
        assert.equal(typeof model.owned_by, "string");
        assert.equal(typeof model.created, "number");
        ids.push(model.id);
      }
      for (const id of [
        "gpt-4o",
        "gpt-35-turbo",
        "whisper",
        "gpt-3.5-turbo",
        "whisper-1",
        "tts-1",
        "tts-1-hd",
        "text-embedding-3-small",
        "dall-e-3",
      ]) {
        assert.ok(ids.includes(id), `${id} is listed in ${ids.join(", ")}`);
      }
      assert.equal(new Set(ids).size, ids.length, "no duplicates");
    });

    it(`retrieves a model by its OpenAI name and refuses an unknown one (${style})`, async () => {
      const model = await client.models.retrieve("whisper-1");
      assert.equal(model.id, "whisper-1");
      assert.equal(model.object, "model");
      const error = await sdkError(() => client.models.retrieve("no-such-model"));
      assert.ok(error instanceof OpenAI.NotFoundError);
      assert.equal(error.code, "model_not_found");
    });

    // ---- response metadata ----

    it(`exposes Azure's request id and rate-limit headers to the SDK (${style})`, async () => {
      const { data, response, request_id } = await client.chat.completions
        .create({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] })
        .withResponse();
      assert.equal(data.choices[0]?.message.content, greeting("gpt-4o", "Hi"));
      assert.match(request_id ?? "", /^[0-9a-f-]{36}$/);
      assert.equal(response.headers.get("x-ratelimit-remaining-requests"), "999");
      assert.equal(response.headers.get("x-ratelimit-remaining-tokens"), "149000");
    });

    it(`stops the Azure request when the client breaks out of a stream (${style})`, async () => {
      const stream = await client.chat.completions.create(
        { model: "gpt-4o", messages: [{ role: "user", content: "Go on" }], stream: true },
        { headers: { "x-emulator-words": "400", "x-emulator-chunk-delay-ms": "10" } },
      );
      let seen = 0;
      for await (const _chunk of stream) {
        seen += 1;
        if (seen === 3) break;
      }
      const request = received(stack, "chat/completions");
      const deadline = Date.now() + 3000;
      while (!request.aborted && Date.now() < deadline) await sleep(20);
      assert.equal(request.aborted, true, "the emulator saw the request go away");
    });

    it(`abandons the Azure request when the SDK times out waiting (${style})`, async () => {
      const error = await sdkError(() =>
        client.chat.completions.create(
          { model: "gpt-4o", messages: [{ role: "user", content: "Slow" }] },
          {
            timeout: 300,
            headers: { "x-emulator-fault": "slow-first-byte", "x-emulator-delay-ms": "5000" },
          },
        ),
      );
      assert.ok(error instanceof OpenAI.APIConnectionTimeoutError, error.constructor.name);
      const request = received(stack, "chat/completions");
      const deadline = Date.now() + 3000;
      while (!request.aborted && Date.now() < deadline) await sleep(20);
      assert.equal(request.aborted, true, "the proxy let go of the Azure request");
    });

    it(`raises an error, not a short answer, when Azure cuts a stream (${style})`, async () => {
      const error = await sdkError(async () => {
        const stream = await client.chat.completions.create(
          { model: "gpt-4o", messages: [{ role: "user", content: "Cut me off" }], stream: true },
          { headers: { "x-emulator-fault": "reset-mid-stream" } },
        );
        await collect(stream);
      });
      assert.equal(error.code, "upstream_interrupted");
    });

    // ---- errors ----

    it(`raises NotFoundError with code DeploymentNotFound for an unknown deployment (${style})`, async () => {
      const error = await sdkError(() =>
        client.chat.completions.create({
          model: "no-such-deployment",
          messages: [{ role: "user", content: "Hi" }],
        }),
      );
      assert.ok(error instanceof OpenAI.NotFoundError, error.constructor.name);
      assert.equal(error.status, 404);
      assert.equal(error.code, "DeploymentNotFound");
      assert.match(error.message, /deployment for this resource does not exist/);
      assert.equal(
        received(stack, "chat/completions").path,
        upstreamPath(style, "no-such-deployment", "chat/completions"),
      );
    });

    it(`refuses a model name that would change the Azure path (${style})`, async () => {
      const before = inferenceCount(stack);
      const error = await sdkError(() =>
        client.chat.completions.create({
          model: "../deployments/gpt-4o",
          messages: [{ role: "user", content: "Hi" }],
        }),
      );
      assert.ok(error instanceof OpenAI.BadRequestError, error.constructor.name);
      assert.equal(error.code, "invalid_model");
      assert.equal(error.param, "model");
      assert.equal(inferenceCount(stack), before, "nothing reached Azure");
    });

    it(`raises BadRequestError with code content_filter for a filtered prompt (${style})`, async () => {
      const error = await sdkError(() =>
        client.chat.completions.create(
          { model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] },
          { headers: { "x-emulator-fault": "content-filter" } },
        ),
      );
      assert.ok(error instanceof OpenAI.BadRequestError, error.constructor.name);
      assert.equal(error.status, 400);
      assert.equal(error.code, "content_filter");
      assert.equal(error.param, "prompt");
      const details = error.error as { innererror?: { code?: string } };
      assert.equal(details.innererror?.code, "ResponsibleAIPolicyViolation");
    });

    it(`raises content_filter before a stream starts for a forbidden topic (${style})`, async () => {
      const error = await sdkError(async () => {
        const stream = await client.chat.completions.create({
          model: "gpt-4o",
          messages: [{ role: "user", content: `Tell me about the ${FORBIDDEN_WORD}` }],
          stream: true,
        });
        await collect(stream);
      });
      assert.ok(error instanceof OpenAI.BadRequestError, error.constructor.name);
      assert.equal(error.code, "content_filter");
    });

    it(`raises RateLimitError carrying retry-after on a 429 (${style})`, async () => {
      const before = inferenceCount(stack);
      const error = await sdkError(() =>
        client.embeddings.create(
          { model: "text-embedding-3-small", input: "limited" },
          { headers: { "x-emulator-fault": "429", "x-emulator-retry-after-ms": "1500" } },
        ),
      );
      assert.ok(error instanceof OpenAI.RateLimitError, error.constructor.name);
      assert.equal(error.status, 429);
      assert.equal(error.headers?.get("retry-after"), "2");
      assert.equal(error.headers?.get("retry-after-ms"), "1500");
      assert.equal(inferenceCount(stack) - before, 1, "one attempt, no hidden retry");
    });

    it(`raises InternalServerError when Azure fails with 500 (${style})`, async () => {
      const error = await sdkError(() =>
        client.completions.create(
          { model: "gpt-3.5-turbo-instruct", prompt: "Hi" },
          { headers: { "x-emulator-fault": "500" } },
        ),
      );
      assert.ok(error instanceof OpenAI.InternalServerError, error.constructor.name);
      assert.equal(error.status, 500);
    });

    it(`raises AuthenticationError for a wrong key (${style})`, async () => {
      const wrong = sdkClient(stack, "not-the-key");
      const error = await sdkError(() =>
        wrong.chat.completions.create({
          model: "gpt-4o",
          messages: [{ role: "user", content: "Hi" }],
        }),
      );
      assert.ok(error instanceof OpenAI.AuthenticationError, error.constructor.name);
      assert.equal(error.status, 401);
      assert.equal(received(stack, "chat/completions").headers["api-key"], "not-the-key");
    });
  });

  describe(`the OpenAI SDK with AZURE_OPENAI_PROXY_STREAM_ARTEFACTS=keep, ${style} style`, () => {
    let stack: Stack;
    let client: OpenAI;
    before(async () => {
      stack = await startStack({
        env: { ...STYLE_ENV[style], AZURE_OPENAI_PROXY_STREAM_ARTEFACTS: "keep" },
      });
      client = sdkClient(stack);
    });
    after(() => stack.close());

    it(`passes Azure's prompt-filter and annotation chunks of a chat stream to the client (${style})`, async () => {
      const stream = await client.chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "Keep everything" }],
        stream: true,
      });
      const chunks = (await collect(stream)).map(raw);
      const first = chunks[0];
      assert.deepEqual(first?.choices, []);
      assert.equal(first?.id, "");
      assert.ok(Array.isArray(first?.prompt_filter_results));
      const annotations = chunks.filter((c) =>
        c.choices.some((choice) => "content_filter_offsets" in choice && !("delta" in choice)),
      );
      assert.equal(annotations.length, 1);
      const text = chunks
        .flatMap((c) => c.choices.map((choice) => (choice.delta as { content?: string })?.content))
        .join("");
      assert.equal(text, greeting("gpt-4o", "Keep everything"));
    });

    it(`passes Azure's artefacts of a legacy completion stream to the client (${style})`, async () => {
      const stream = await client.completions.create({
        model: "gpt-3.5-turbo-instruct",
        prompt: "Keep",
        max_tokens: 64,
        stream: true,
      });
      const chunks = (await collect(stream)).map(raw);
      assert.deepEqual(chunks[0]?.choices, []);
      assert.ok(Array.isArray(chunks[0]?.prompt_filter_results));
      assert.ok(chunks.some((c) => c.choices.some((choice) => "content_filter_offsets" in choice)));
    });
  });
}
