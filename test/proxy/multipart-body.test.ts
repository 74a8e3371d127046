import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { ProxyError } from "../../src/openai/errors.ts";
import { holdUntilModel, replaceFormField } from "../../src/proxy/multipart-body.ts";
import { type FormPart, multipartBody } from "../helpers/multipart.ts";

const boundary = "----test-boundary";
const form = (parts: FormPart[]) => multipartBody(parts, boundary).body;
const contentType = `multipart/form-data; boundary=${boundary}`;
function chunked(data: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) chunks.push(data.subarray(i, i + size));
  return Readable.from(chunks, { objectMode: false });
}
async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("holdUntilModel", () => {
  it("finds the model after a large file and forwards every byte unchanged", async () => {
    const audio = Buffer.alloc(9 * 1024 * 1024, 7);
    const body = form([
      { name: "file", value: audio, filename: "a.wav" },
      { name: "model", value: "whisper-1" },
    ]);
    const held = await holdUntilModel(chunked(body, 64 * 1024), contentType, body.length, 1e9);
    assert.equal(held.model, "whisper-1");
    assert.equal(held.contentLength, body.length);
    assert.equal(sha(await collect(held.body())), sha(body));
  });

  it("stops reading at the model when it comes first, and streams the rest", async () => {
    const body = form([
      { name: "model", value: "whisper-1" },
      { name: "file", value: Buffer.alloc(1024 * 1024, 1), filename: "a.wav" },
    ]);
    let pulled = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < body.length; i += 16 * 1024) {
          pulled += 1;
          yield body.subarray(i, i + 16 * 1024);
        }
      })(),
      { objectMode: false },
    );
    const held = await holdUntilModel(source, contentType, body.length, 1e9);
    assert.equal(held.model, "whisper-1");
    assert.ok(pulled < 5, `read ${pulled} chunks before the model`);
    assert.equal(sha(await collect(held.body())), sha(body));
  });

  it("rewrites the model field in place and adjusts the length", async () => {
    const body = form([
      { name: "file", value: Buffer.alloc(6 * 1024 * 1024, 3), filename: "a.wav" },
      { name: "model", value: "whisper-1" },
      { name: "language", value: "en" },
    ]);
    const held = await holdUntilModel(chunked(body, 32 * 1024), contentType, body.length, 1e9);
    assert.ok(held.replaceModel("whisper"));
    const out = await collect(held.body());
    assert.equal(held.contentLength, body.length - 2);
    assert.equal(out.length, body.length - 2);
    assert.ok(out.includes(Buffer.from('name="model"\r\n\r\nwhisper\r\n')));
  });

  it("reports a body without a model field", async () => {
    const body = form([{ name: "file", value: "x", filename: "a.wav" }]);
    const held = await holdUntilModel(chunked(body, 10), contentType, body.length, 1e9);
    assert.equal(held.model, undefined);
    await held.discard();
  });

  it("refuses an upload over the limit with 413", async () => {
    const body = form([{ name: "file", value: Buffer.alloc(100_000), filename: "a.wav" }]);
    await assert.rejects(
      holdUntilModel(chunked(body, 10_000), contentType, undefined, 50_000),
      (e: unknown) => e instanceof ProxyError && e.status === 413,
    );
  });

  it("refuses a malformed multipart body with 400", async () => {
    await assert.rejects(
      holdUntilModel(chunked(Buffer.from("nope"), 10), "multipart/form-data", 4, 1e9),
      (e: unknown) => e instanceof ProxyError && e.status === 400,
    );
  });
});

describe("replaceFormField", () => {
  it("returns undefined when the field is not complete in the window", () => {
    const body = form([{ name: "model", value: "abc" }]);
    assert.equal(replaceFormField(body.subarray(0, 30), boundary, "model", "x"), undefined);
    assert.ok(
      replaceFormField(body, boundary, "model", "x")?.includes(Buffer.from("\r\n\r\nx\r\n")),
    );
  });
});
