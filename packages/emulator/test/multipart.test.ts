import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type Emulator, startEmulator } from "../src/index.ts";
import { datedUrl, fetchAzure, KEY } from "./client.ts";

function audioFile(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) % 251;
  return bytes;
}

function form(fields: Record<string, string>, files: Record<string, [Buffer, string]>): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  for (const [name, [bytes, filename]] of Object.entries(files)) {
    data.append(name, new Blob([bytes], { type: "audio/wav" }), filename);
  }
  return data;
}

describe("emulator multipart operations", () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator();
  });
  after(() => emulator.close());

  const upload = (
    url: string,
    body: FormData,
    headers: Record<string, string> = { "api-key": KEY },
  ) => fetchAzure(url, { method: "POST", headers, body });

  it("transcribes a 5 MB upload and records its size and sha256", async () => {
    const audio = audioFile(5 * 1024 * 1024);
    const res = await upload(
      datedUrl(emulator, "whisper", "audio/transcriptions"),
      form({ language: "en" }, { file: [audio, "speech.wav"] }),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      text: `The emulator heard ${audio.length} bytes of speech.wav.`,
    });
    const record = emulator.requests.at(-1);
    assert.equal(record?.deployment, "whisper");
    assert.deepEqual(record?.multipart?.fields, { language: "en" });
    assert.deepEqual(record?.multipart?.files, [
      {
        field: "file",
        filename: "speech.wav",
        mimeType: "audio/wav",
        size: audio.length,
        sha256: createHash("sha256").update(audio).digest("hex"),
      },
    ]);
    assert.ok((record?.bodySize ?? 0) > audio.length);
  });

  it("takes the deployment from the model field on the v1 style", async () => {
    const res = await upload(
      `${emulator.url}/openai/v1/audio/translations`,
      form(
        { model: "whisper", response_format: "verbose_json" },
        { file: [audioFile(64_000), "fr.wav"] },
      ),
      { authorization: `Bearer ${KEY}` },
    );
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.task, "translate");
    assert.equal(body.language, "english");
    assert.equal(body.duration, 2);
    assert.equal(body.text, "The emulator heard 64000 bytes of fr.wav.");
    assert.equal(body.segments[0].text, body.text);
    assert.equal(body.segments[0].end, 2);
    assert.equal(emulator.requests.at(-1)?.deployment, "whisper");
    assert.equal(emulator.requests.at(-1)?.style, "v1");
  });

  it("answers text, srt and vtt transcripts as documents", async () => {
    const file = { file: [audioFile(32_000), "a.wav"] as [Buffer, string] };
    const url = datedUrl(emulator, "whisper", "audio/transcriptions");
    const text = await upload(url, form({ response_format: "text" }, file));
    assert.match(text.headers.get("content-type") ?? "", /^text\/plain/);
    assert.equal(await text.text(), "The emulator heard 32000 bytes of a.wav.\n");
    const srt = await (await upload(url, form({ response_format: "srt" }, file))).text();
    assert.equal(
      srt,
      "1\n00:00:00,000 --> 00:00:01,000\nThe emulator heard 32000 bytes of a.wav.\n\n",
    );
    const vtt = await (await upload(url, form({ response_format: "vtt" }, file))).text();
    assert.equal(
      vtt,
      "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nThe emulator heard 32000 bytes of a.wav.\n\n",
    );
  });

  it("requires a file, a multipart body, and a model on v1", async () => {
    const noFile = await upload(
      datedUrl(emulator, "whisper", "audio/transcriptions"),
      form({ response_format: "json" }, {}),
    );
    assert.equal(noFile.status, 400);
    assert.equal((await noFile.json()).error.param, "file");

    const json = await fetchAzure(datedUrl(emulator, "whisper", "audio/transcriptions"), {
      method: "POST",
      headers: { "api-key": KEY, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(json.status, 400);
    assert.equal((await json.json()).error.code, "BadRequest");

    const noModel = await upload(
      `${emulator.url}/openai/v1/audio/transcriptions`,
      form({}, { file: [audioFile(10), "a.wav"] }),
    );
    assert.equal(noModel.status, 400);
  });

  it("answers 400 for a malformed multipart body", async () => {
    const res = await fetchAzure(datedUrl(emulator, "whisper", "audio/transcriptions"), {
      method: "POST",
      headers: { "api-key": KEY, "content-type": "multipart/form-data; boundary=xyz" },
      body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nabc',
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, "BadRequest");
  });

  it("edits images from uploaded image files and a prompt", async () => {
    const png = Buffer.from(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
      "base64",
    );
    const res = await upload(
      datedUrl(emulator, "gpt-image-1", "images/edits", "2025-04-01-preview"),
      form({ prompt: "add a hat", n: "2" }, { image: [png, "cat.png"], mask: [png, "mask.png"] }),
    );
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.data.length, 2);
    assert.equal(typeof body.data[0].b64_json, "string");
    assert.deepEqual(
      emulator.requests.at(-1)?.multipart?.files.map((f) => [f.field, f.filename, f.size]),
      [
        ["image", "cat.png", png.length],
        ["mask", "mask.png", png.length],
      ],
    );
  });
});
