import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Emulator, startEmulator } from "../src/index.ts";
import { chatBody, postDated, postV1 } from "./client.ts";

const SAFE = { filtered: false, severity: "safe" };
const SAFE_RESULTS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };

describe("emulator answers", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator({
      chunkDelayMs: 0,
      deployments: [
        { id: "gpt-4o", model: "gpt-4o-2024-11-20" },
        { id: "instruct", model: "gpt-35-turbo-instruct" },
        { id: "ada", model: "text-embedding-ada-002" },
        { id: "small", model: "text-embedding-3-small" },
        { id: "dall-e-3", model: "dall-e-3" },
        { id: "tts", model: "tts" },
      ],
    });
  });
  after(() => emulator.close());

  it("answers chat in Azure's shape with filters, fingerprint and word-count usage", async () => {
    const res = await postDated(emulator, "gpt-4o", "chat/completions", {
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "What is up" }] },
      ],
    });
    assert.equal(res.headers.get("content-type"), "application/json");
    const body = await res.json();
    assert.match(body.id, /^chatcmpl-/);
    assert.equal(body.object, "chat.completion");
    assert.equal(typeof body.created, "number");
    assert.equal(body.model, "gpt-4o-2024-11-20");
    assert.equal(typeof body.system_fingerprint, "string");
    const [choice] = body.choices;
    assert.deepEqual(choice.message, {
      annotations: [],
      content: "Hello from the Azure OpenAI emulator (deployment gpt-4o). You said: What is up",
      refusal: null,
      role: "assistant",
    });
    assert.equal(choice.finish_reason, "stop");
    assert.equal(choice.logprobs, null);
    assert.deepEqual(choice.content_filter_results, SAFE_RESULTS);
    assert.equal(body.prompt_filter_results[0].prompt_index, 0);
    assert.deepEqual(body.prompt_filter_results[0].content_filter_results.hate, SAFE);
    assert.equal(body.usage.prompt_tokens, 5);
    assert.equal(body.usage.completion_tokens, 13);
    assert.equal(body.usage.total_tokens, 18);
  });

  it("echoes at most 200 characters of the last user message", async () => {
    const long = "x".repeat(500);
    const body = await (
      await postDated(emulator, "gpt-4o", "chat/completions", chatBody(long))
    ).json();
    assert.ok(body.choices[0].message.content.endsWith(`You said: ${"x".repeat(200)}`));
  });

  it("gives n choices and cuts the answer at max_tokens with finish_reason length", async () => {
    const body = await (
      await postDated(
        emulator,
        "gpt-4o",
        "chat/completions",
        chatBody("Hi", { n: 3, max_tokens: 4 }),
      )
    ).json();
    assert.equal(body.choices.length, 3);
    assert.deepEqual(
      body.choices.map((c: { index: number }) => c.index),
      [0, 1, 2],
    );
    assert.equal(body.choices[2].message.content, "Hello from the Azure");
    assert.equal(body.choices[2].finish_reason, "length");
    assert.equal(body.usage.completion_tokens, 12);
  });

  it("answers exactly N words when asked with x-emulator-words", async () => {
    const res = await postDated(emulator, "gpt-4o", "chat/completions", chatBody("Hi"), {
      "x-emulator-words": "5",
    });
    const body = await res.json();
    assert.equal(body.choices[0].message.content, "word1 word2 word3 word4 word5");
  });

  it("refuses both max_tokens and max_completion_tokens, and missing messages", async () => {
    const both = await postDated(
      emulator,
      "gpt-4o",
      "chat/completions",
      chatBody("Hi", { max_tokens: 5, max_completion_tokens: 5 }),
    );
    assert.equal(both.status, 400);
    assert.equal((await both.json()).error.type, "invalid_request_error");
    const none = await postDated(emulator, "gpt-4o", "chat/completions", {});
    assert.equal(none.status, 400);
    assert.equal((await none.json()).error.param, "messages");
  });

  it("calls the first tool when tools are offered and the user asks about the weather", async () => {
    const tools = [
      { type: "function", function: { name: "get_weather", parameters: { type: "object" } } },
      { type: "function", function: { name: "other", parameters: { type: "object" } } },
    ];
    const body = await (
      await postDated(
        emulator,
        "gpt-4o",
        "chat/completions",
        chatBody("What's the weather?", { tools }),
      )
    ).json();
    const [choice] = body.choices;
    assert.equal(choice.finish_reason, "tool_calls");
    assert.equal(choice.message.content, null);
    assert.equal(choice.message.tool_calls.length, 1);
    assert.match(choice.message.tool_calls[0].id, /^call_/);
    assert.equal(choice.message.tool_calls[0].type, "function");
    assert.deepEqual(choice.message.tool_calls[0].function, {
      name: "get_weather",
      arguments: "{}",
    });
  });

  it("answers legacy completions as text_completion, max_tokens defaulting to 16", async () => {
    const body = await (
      await postDated(emulator, "instruct", "completions", { prompt: "Say hi" })
    ).json();
    assert.equal(body.object, "text_completion");
    assert.match(body.id, /^cmpl-/);
    assert.equal(body.model, "gpt-35-turbo-instruct");
    assert.equal(
      body.choices[0].text,
      "Hello from the Azure OpenAI emulator (deployment instruct). You said: Say hi",
    );
    assert.equal(body.choices[0].finish_reason, "stop");
    const long = await (
      await postDated(emulator, "instruct", "completions", { prompt: "a ".repeat(40) })
    ).json();
    assert.equal(long.choices[0].finish_reason, "length");
    assert.equal(long.usage.completion_tokens, 16);
  });

  it("refuses the forbidden word with Azure's content_filter error", async () => {
    const res = await postDated(
      emulator,
      "gpt-4o",
      "chat/completions",
      chatBody("tell me about forbidden-topic"),
    );
    assert.equal(res.status, 400);
    const { error } = await res.json();
    assert.equal(error.code, "content_filter");
    assert.equal(error.param, "prompt");
    assert.equal(error.status, 400);
    assert.equal(error.innererror.code, "ResponsibleAIPolicyViolation");
    assert.deepEqual(error.innererror.content_filter_result.hate, {
      filtered: true,
      severity: "high",
    });
    assert.deepEqual(error.innererror.content_filter_result.violence, SAFE);
  });

  it("embeds strings and token arrays deterministically, 8 dimensions by default", async () => {
    const first = await (
      await postDated(emulator, "ada", "embeddings", { input: ["a b", [1, 2, 3]] })
    ).json();
    const again = await (
      await postDated(emulator, "ada", "embeddings", { input: ["a b", [1, 2, 3]] })
    ).json();
    assert.deepEqual(first.data, again.data);
    assert.equal(first.object, "list");
    assert.equal(first.model, "text-embedding-ada-002");
    assert.equal(first.data.length, 2);
    assert.equal(first.data[1].index, 1);
    assert.equal(first.data[0].object, "embedding");
    assert.equal(first.data[0].embedding.length, 8);
    assert.notDeepEqual(first.data[0].embedding, first.data[1].embedding);
    assert.deepEqual(first.usage, { prompt_tokens: 5, total_tokens: 5 });
  });

  it("honours dimensions and encodes base64 as little-endian float32", async () => {
    const floats = await (
      await postDated(emulator, "small", "embeddings", { input: "hello", dimensions: 16 })
    ).json();
    const b64 = await (
      await postDated(emulator, "small", "embeddings", {
        input: "hello",
        dimensions: 16,
        encoding_format: "base64",
      })
    ).json();
    const vector: number[] = floats.data[0].embedding;
    assert.equal(vector.length, 16);
    const bytes = Buffer.from(b64.data[0].embedding, "base64");
    const decoded = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    assert.deepEqual(decoded, vector);
    const norm = Math.hypot(...vector);
    assert.ok(Math.abs(norm - 1) < 1e-5);

    const ada = await postDated(emulator, "ada", "embeddings", { input: "x", dimensions: 4 });
    assert.equal(ada.status, 400);
  });

  it("generates images as a tiny PNG by default and as URLs on request", async () => {
    const b64 = await (
      await postDated(emulator, "dall-e-3", "images/generations", { prompt: "a cat" })
    ).json();
    assert.equal(typeof b64.created, "number");
    const png = Buffer.from(b64.data[0].b64_json, "base64");
    assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from("PNG")]);
    assert.match(b64.data[0].revised_prompt, /a cat/);

    const urls = await (
      await postV1(emulator, "images/generations", {
        model: "dall-e-3",
        prompt: "a dog",
        n: 2,
        response_format: "url",
      })
    ).json();
    assert.equal(urls.data.length, 2);
    assert.match(urls.data[0].url, /^https:\/\/emulator\.invalid\/images\/[0-9a-f]+\.png$/);
    assert.equal(urls.data[0].b64_json, undefined);
  });

  it("speaks in the requested format, sized by the input", async () => {
    const formats = {
      mp3: "audio/mpeg",
      opus: "audio/opus",
      aac: "audio/aac",
      flac: "audio/flac",
      wav: "audio/wav",
      pcm: "audio/pcm",
    };
    for (const [format, contentType] of Object.entries(formats)) {
      const res = await postDated(emulator, "tts", "audio/speech", {
        model: "tts",
        input: "Hello world",
        voice: "alloy",
        response_format: format,
      });
      assert.equal(res.status, 200, format);
      assert.equal(res.headers.get("content-type"), contentType);
      assert.ok((await res.arrayBuffer()).byteLength >= "Hello world".length * 64);
    }
    const short = await postDated(emulator, "tts", "audio/speech", { input: "a", voice: "alloy" });
    const long = await postDated(emulator, "tts", "audio/speech", {
      input: "a".repeat(100),
      voice: "alloy",
    });
    const shortSize = (await short.arrayBuffer()).byteLength;
    const longSize = (await long.arrayBuffer()).byteLength;
    assert.ok(longSize > shortSize * 50);
    const bad = await postDated(emulator, "tts", "audio/speech", {
      input: "a",
      voice: "alloy",
      response_format: "ogg",
    });
    assert.equal(bad.status, 400);
  });
});
