/**
 * The official `openai` SDK through the proxy under the settings users change most: the model
 * mapper, a server-held key, api-version choices, and a resource whose deployments are named
 * like the OpenAI models. Both Azure API styles.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_DEPLOYMENTS, type EmulatorDeployment } from "@azure-oai-proxy/emulator";
import { greeting } from "@azure-oai-proxy/emulator/answers";
import { heardText } from "@azure-oai-proxy/emulator/audio";
import type OpenAI from "openai";
import { toFile } from "openai";
import { DEFAULT_API_VERSION } from "../../src/config/api-versions.ts";
import { EMULATOR_KEY, type Stack, startStack } from "../helpers/stack.ts";
import {
  assertUpstream,
  received,
  STYLE_ENV,
  STYLES,
  sdkClient,
  sha256,
  testBytes,
} from "./sdk-harness.ts";

const MB = 1024 * 1024;
const LONG_WHISPER = "my-whisper-deployment-with-a-long-name";

for (const style of STYLES) {
  describe(`AZURE_OPENAI_MODEL_MAPPER with the OpenAI SDK, ${style} style`, () => {
    let stack: Stack;
    let client: OpenAI;
    before(async () => {
      stack = await startStack({
        env: {
          ...STYLE_ENV[style],
          AZURE_OPENAI_MODEL_MAPPER: `gpt-4o=gpt-4o-mini, whisper-1=${LONG_WHISPER}`,
        },
        emulator: { deployments: [...DEFAULT_DEPLOYMENTS, { id: LONG_WHISPER, model: "whisper" }] },
      });
      client = sdkClient(stack);
    });
    after(() => stack.close());

    it(`sends gpt-4o chat to the gpt-4o-mini deployment the mapper names (${style})`, async () => {
      const completion = await client.chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "Which deployment?" }],
      });
      assert.equal(
        completion.choices[0]?.message.content,
        greeting("gpt-4o-mini", "Which deployment?"),
      );
      assertUpstream(received(stack, "chat/completions"), {
        style,
        op: "chat/completions",
        deployment: "gpt-4o-mini",
        clientModel: "gpt-4o",
        body: "json",
      });
    });

    it(`leaves a JSON body's nested "model" keys and text alone when mapping (${style})`, async () => {
      const said = 'reply with {"model": "gpt-4o"} verbatim';
      await client.chat.completions.create({
        messages: [{ role: "user", content: said }],
        tools: [
          {
            type: "function",
            function: {
              name: "pick",
              parameters: { type: "object", properties: { model: { type: "string" } } },
            },
          },
        ],
        model: "gpt-4o",
      });
      const sent = received(stack, "chat/completions").json as {
        model: string;
        messages: { content: string }[];
        tools: { function: { parameters: { properties: Record<string, unknown> } } }[];
      };
      assert.equal(sent.model, style === "v1" ? "gpt-4o-mini" : "gpt-4o");
      assert.equal(sent.messages[0]?.content, said);
      assert.deepEqual(Object.keys(sent.tools[0]?.function.parameters.properties ?? {}), ["model"]);
    });

    for (const order of ["file", "model"] as const) {
      it(`sends a 5 MB whisper-1 upload with ${order} first to a longer mapped deployment name, untouched (${style})`, async () => {
        const upload = testBytes(5 * MB, `mapped-${order}`);
        const file = await toFile(upload, "call.wav", { type: "audio/wav" });
        const body = order === "file" ? { file, model: "whisper-1" } : { model: "whisper-1", file };
        const result = await client.audio.transcriptions.create(body);
        assert.equal(
          result.text,
          heardText({
            task: "transcribe",
            filename: "call.wav",
            size: upload.length,
            wordTimestamps: false,
          }),
        );
        const request = received(stack, "audio/transcriptions");
        assertUpstream(request, {
          style,
          op: "audio/transcriptions",
          deployment: LONG_WHISPER,
          clientModel: "whisper-1",
          body: "multipart",
        });
        assert.equal(request.multipart?.files[0]?.size, upload.length);
        assert.equal(request.multipart?.files[0]?.sha256, sha256(upload));
      });
    }
  });

  describe(`a server-held AZURE_OPENAI_API_KEY with the OpenAI SDK, ${style} style`, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack({
        env: { ...STYLE_ENV[style], AZURE_OPENAI_API_KEY: EMULATOR_KEY },
      });
    });
    after(() => stack.close());

    it(`sends the server's key to Azure whatever key the client holds (${style})`, async () => {
      const client = sdkClient(stack, "some-client-placeholder");
      const result = await client.embeddings.create({
        model: "text-embedding-ada-002",
        input: "server key",
      });
      assert.equal(result.data.length, 1);
      const request = received(stack, "embeddings");
      assert.equal(request.headers["api-key"], EMULATOR_KEY);
      assert.equal(request.headers.authorization, undefined);
    });
  });

  describe(`deployments named like the OpenAI models, ${style} style`, () => {
    // No text-embedding-3-small-1 here: the table's guess does not exist on this resource.
    const deployments: EmulatorDeployment[] = [
      { id: "text-embedding-3-small", model: "text-embedding-3-small" },
      { id: "chat-prod", model: "gpt-4o-mini" },
    ];

    it(`sends text-embedding-3-small to the deployment of that exact name once models were listed (${style})`, async () => {
      const stack = await startStack({ env: STYLE_ENV[style], emulator: { deployments } });
      try {
        const client = sdkClient(stack);
        const ids: string[] = [];
        for await (const model of client.models.list()) ids.push(model.id);
        assert.ok(ids.includes("text-embedding-3-small"), ids.join(", "));
        assert.ok(ids.includes("gpt-4o-mini"), ids.join(", "));

        const result = await client.embeddings.create({
          model: "text-embedding-3-small",
          input: "exact name",
        });
        assert.equal(result.model, "text-embedding-3-small");
        assert.equal(received(stack, "embeddings").deployment, "text-embedding-3-small");

        const chat = await client.chat.completions.create({
          model: "gpt-4o-mini",
          messages: [{ role: "user", content: "Hi" }],
        });
        assert.equal(chat.choices[0]?.message.content, greeting("chat-prod", "Hi"));
      } finally {
        await stack.close();
      }
    });

    it(`sends the very first text-embedding-3-small request to the deployment of that exact name (${style})`, async () => {
      const stack = await startStack({ env: STYLE_ENV[style], emulator: { deployments } });
      try {
        const client = sdkClient(stack);
        const result = await client.embeddings.create({
          model: "text-embedding-3-small",
          input: "first request",
        });
        assert.equal(result.model, "text-embedding-3-small");
        assert.equal(received(stack, "embeddings").deployment, "text-embedding-3-small");
      } finally {
        await stack.close();
      }
    });
  });

  describe(`api-version settings with the OpenAI SDK, ${style} style`, () => {
    const setting = style === "dated" ? "2024-10-21" : "preview";
    let stack: Stack;
    let client: OpenAI;
    before(async () => {
      stack = await startStack({ env: { AZURE_OPENAI_APIVERSION: setting } });
      client = sdkClient(stack);
    });
    after(() => stack.close());

    it(`sends AZURE_OPENAI_APIVERSION=${setting} as Azure's api-version (${style})`, async () => {
      const completion = await client.chat.completions.create({
        model: "gpt-3.5-turbo",
        messages: [{ role: "user", content: "Which version?" }],
      });
      assert.equal(
        completion.choices[0]?.message.content,
        greeting("gpt-35-turbo", "Which version?"),
      );
      const request = received(stack, "chat/completions");
      assert.equal(request.style, style);
      assert.equal(request.query["api-version"], setting);
      assert.notEqual(setting, DEFAULT_API_VERSION);
      assert.equal(
        request.path,
        style === "dated"
          ? "/openai/deployments/gpt-35-turbo/chat/completions"
          : "/openai/v1/chat/completions",
      );

      const speech = await client.audio.speech.create({
        model: "tts-1",
        voice: "alloy",
        input: "versioned",
      });
      assert.equal(speech.headers.get("content-type"), "audio/mpeg");
      assert.equal(received(stack, "audio/speech").query["api-version"], setting);
      assert.equal(received(stack, "audio/speech").deployment, "tts");
    });
  });
}
