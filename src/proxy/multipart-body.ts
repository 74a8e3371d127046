import { randomUUID } from "node:crypto";
import { type FileHandle, open, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type busboy from "busboy";
import { bodyTooLarge, invalidMultipart } from "../openai/errors.ts";
import { uploadGarbageCollector } from "./upload-garbage.ts";

/** Bytes of the upload kept in memory while waiting for the `model` field; the rest goes to a temp file. */
const MEMORY_LIMIT = 4 * 1024 * 1024;
/** The newest bytes always stay in memory, so the model part can be rewritten in place. */
const MEMORY_TAIL = 64 * 1024;

export interface HeldUpload {
  /** The `model` form field, or undefined when the body has none. */
  readonly model: string | undefined;
  /** Upstream length: the client's Content-Length, adjusted for a rewritten model. */
  readonly contentLength: number | undefined;
  /** Replaces the `model` field's value in the held bytes (v1 style: the deployment goes in `model`). */
  replaceModel(deployment: string): boolean;
  /** The whole body: the held bytes, then the rest as it arrives from the client. Once. */
  body(): Readable;
  /**
   * The whole body as one buffer when all of it was read and kept in memory (a small upload),
   * so it can be sent again to another target; undefined otherwise.
   */
  complete(): Buffer | undefined;
  /** The multipart boundary, for rewriting a kept body's model field. */
  readonly boundary: string | undefined;
  /** Frees the temp file when the body will not be sent. */
  discard(): Promise<void>;
}

/**
 * Reads a multipart body only as far as its `model` field, scanning with busboy while holding the
 * raw bytes (in memory up to a few MB, then in a temp file) so they can be forwarded untouched.
 * When `model` comes before the file, as the Python SDK sends it, almost nothing is held; when
 * it comes after, the file is held on disk, never whole in memory.
 */
export async function holdUntilModel(
  source: Readable,
  contentType: string,
  contentLength: number | undefined,
  maxSize: number,
  /** Keep reading past the model until this many bytes are held (or the body ends). */
  readAhead = 0,
): Promise<HeldUpload> {
  let parser: busboy.Busboy;
  const createParser = await loadBusboy();
  try {
    parser = createParser({
      headers: { "content-type": contentType },
      limits: { fieldSize: 64 * 1024, fields: 1000, parts: 10_000 },
    });
  } catch (error) {
    throw invalidMultipart((error as Error).message);
  }
  const boundary = boundaryOf(contentType);
  let model: string | undefined;
  let parseError: Error | undefined;
  parser.on("field", (name, value) => {
    if (name === "model" && model === undefined) model = value;
  });
  parser.on("file", (_name, stream) => stream.resume());
  parser.on("error", (error: Error) => {
    parseError = error;
  });

  const spool = new Spool();
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let received = 0;
  let ended = false;
  const collectHeld = uploadGarbageCollector();
  try {
    while (model === undefined || (readAhead > 0 && spool.held < readAhead)) {
      const next = await chunks.next();
      if (next.done) {
        ended = true;
        if (model === undefined) await new Promise<void>((resolve) => parser.end(resolve));
        break;
      }
      received += next.value.length;
      if (received > maxSize) throw bodyTooLarge(maxSize);
      collectHeld(next.value);
      await spool.append(next.value);
      if (model !== undefined) continue; // reading ahead: the parser's work is done
      if (!parser.write(next.value)) await new Promise((r) => parser.once("drain", r));
      if (parseError) throw invalidMultipart(parseError.message);
    }
    if (parseError) throw invalidMultipart(parseError.message);
  } catch (error) {
    await spool.dispose();
    throw error;
  }
  parser.removeAllListeners("field");
  parser.on("error", () => {}); // it is no longer fed; a late complaint must not crash the process

  let delta = 0;
  return {
    model,
    get contentLength() {
      return contentLength === undefined ? undefined : contentLength + delta;
    },
    replaceModel(deployment: string): boolean {
      if (model === undefined || boundary === undefined) return false;
      const change = spool.rewriteTail((tail) =>
        replaceFormField(tail, boundary, "model", deployment),
      );
      if (change === undefined) return false;
      delta += change;
      return true;
    },
    boundary,
    complete: () => (ended ? spool.inMemory() : undefined),
    body() {
      const rest = ended ? undefined : chunks;
      return Readable.from(spool.drain(rest, received, maxSize), { objectMode: false });
    },
    discard: () => spool.dispose(),
  };
}

let busboyModule: Promise<typeof busboy> | undefined;
/** Loaded on first upload: most deployments never see one. */
function loadBusboy(): Promise<typeof busboy> {
  busboyModule ??= import("busboy").then((m) => m.default);
  return busboyModule;
}

function boundaryOf(contentType: string): string | undefined {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/** Held bytes: oldest in a temp file once memory passes its limit, the newest always in memory. */
class Spool {
  private memory: Buffer[] = [];
  private memoryBytes = 0;
  private file: FileHandle | undefined;
  private path: string | undefined;
  private fileBytes = 0;

  /** Bytes held so far, in memory and on disk. */
  get held(): number {
    return this.memoryBytes + this.fileBytes;
  }

  /** Everything held, when none of it went to disk. */
  inMemory(): Buffer | undefined {
    return this.file === undefined && this.fileBytes === 0 ? Buffer.concat(this.memory) : undefined;
  }

  async append(chunk: Buffer): Promise<void> {
    this.memory.push(chunk);
    this.memoryBytes += chunk.length;
    if (this.memoryBytes <= MEMORY_LIMIT) return;
    if (this.file === undefined) {
      this.path = join(tmpdir(), `azure-oai-proxy-upload-${randomUUID()}`);
      this.file = await open(this.path, "wx+", 0o600);
    }
    // Keep the newest chunk plus MEMORY_TAIL before it: a form part ending in the newest chunk
    // (the model field, when busboy has just reported it) then lies wholly in memory.
    while (this.memory.length > 1) {
      const oldest = this.memory[0] as Buffer;
      if (this.memoryBytes - oldest.length - chunk.length < MEMORY_TAIL) break;
      this.memory.shift();
      this.memoryBytes -= oldest.length;
      await this.file.write(oldest, 0, oldest.length, this.fileBytes);
      this.fileBytes += oldest.length;
    }
  }

  /** Applies an edit to the in-memory bytes; returns the change in length, or undefined. */
  rewriteTail(edit: (tail: Buffer) => Buffer | undefined): number | undefined {
    const tail = Buffer.concat(this.memory);
    const edited = edit(tail);
    if (edited === undefined) return undefined;
    this.memory = [edited];
    this.memoryBytes = edited.length;
    return edited.length - tail.length;
  }

  async *drain(
    rest: AsyncIterator<Buffer> | undefined,
    alreadyReceived: number,
    maxSize: number,
  ): AsyncGenerator<Buffer> {
    try {
      if (this.file !== undefined) {
        const collectSpooled = uploadGarbageCollector();
        for (let position = 0; position < this.fileBytes; ) {
          const size = Math.min(256 * 1024, this.fileBytes - position);
          const { buffer, bytesRead } = await this.file.read(
            Buffer.allocUnsafe(size),
            0,
            size,
            position,
          );
          if (bytesRead === 0) break;
          position += bytesRead;
          collectSpooled(buffer);
          yield buffer.subarray(0, bytesRead);
        }
        await this.dispose();
      }
      const held = this.memory;
      this.memory = [];
      this.memoryBytes = 0;
      yield* held;
      if (rest === undefined) return;
      let received = alreadyReceived;
      const collectGarbage = uploadGarbageCollector();
      for (;;) {
        const next = await rest.next();
        if (next.done) return;
        received += next.value.length;
        collectGarbage(next.value);
        if (received > maxSize) throw bodyTooLarge(maxSize);
        yield next.value;
      }
    } finally {
      await this.dispose();
    }
  }

  async dispose(): Promise<void> {
    const file = this.file;
    const path = this.path;
    this.file = undefined;
    this.path = undefined;
    if (file !== undefined) await file.close().catch(() => {});
    if (path !== undefined) await unlink(path).catch(() => {});
  }
}

const CRLF2 = Buffer.from("\r\n\r\n");

/**
 * Replaces the value of the last complete form field named `field` in `data` (a window of a
 * multipart body). Returns undefined when no complete part with that name lies in the window.
 */
export function replaceFormField(
  data: Buffer,
  boundary: string,
  field: string,
  value: string,
): Buffer | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  const nameRule = new RegExp(
    `^content-disposition:[^\\r\\n]*;\\s*name="?${field.replace(/[^\w-]/g, "\\$&")}"?(?:;|\\s*$)`,
    "im",
  );
  let found: { start: number; end: number } | undefined;
  let at = data.indexOf(delimiter);
  while (at !== -1) {
    const next = data.indexOf(delimiter, at + delimiter.length);
    if (next === -1) break;
    const headersStart = at + delimiter.length + 2; // past the CRLF after the delimiter
    const headersEnd = data.indexOf(CRLF2, headersStart);
    const bodyEnd = next - 2; // the CRLF before the next delimiter
    if (headersEnd !== -1 && headersEnd + 4 <= bodyEnd) {
      const headers = data.toString("latin1", headersStart, headersEnd);
      if (nameRule.test(headers)) found = { start: headersEnd + 4, end: bodyEnd };
    }
    at = next;
  }
  if (found === undefined) return undefined;
  return Buffer.concat([
    data.subarray(0, found.start),
    Buffer.from(value, "utf8"),
    data.subarray(found.end),
  ]);
}
