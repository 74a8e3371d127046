/**
 * Where uploaded file bytes live: one temporary directory per emulator, made on the first upload
 * and removed by `close()`. Uploads are written there as they stream in (never held in memory),
 * and `content` streams them back byte for byte. Files the emulator makes itself (fine-tuning
 * results, batch outputs) are small and stay in memory.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";

export type FileContent = { kind: "disk"; path: string } | { kind: "memory"; bytes: Buffer };

export interface Digest {
  size: number;
  sha256: string;
}

export class FileStore {
  #dir: Promise<string> | undefined;
  #dirPath: string | undefined;
  #next = 0;
  readonly #kept = new Set<string>();
  #closed = false;

  /** Makes the directory (once); call before {@link allocate}. */
  async ready(): Promise<void> {
    this.#dir ??= mkdtemp(join(tmpdir(), "azure-oai-emulator-")).then((dir) => {
      this.#dirPath = dir;
      return dir;
    });
    await this.#dir;
  }

  /** A fresh path in the directory. Throws before {@link ready} has resolved. */
  allocate(): string {
    if (this.#dirPath === undefined) throw new Error("FileStore.ready() must resolve first");
    this.#next += 1;
    return join(this.#dirPath, `${this.#next}.bin`);
  }

  /** Marks a written path as belonging to a stored object, so {@link discardUnkept} leaves it. */
  keep(path: string): void {
    this.#kept.add(path);
  }

  /** Removes written paths no stored object took (a refused upload, a client that left). */
  async discardUnkept(paths: readonly string[]): Promise<void> {
    await Promise.all(paths.filter((p) => !this.#kept.has(p)).map((p) => this.remove(p)));
  }

  async remove(path: string): Promise<void> {
    this.#kept.delete(path);
    await unlink(path).catch(() => undefined);
  }

  async release(content: FileContent): Promise<void> {
    if (content.kind === "disk") await this.remove(content.path);
  }

  /** Joins parts (in order) into one new file, hashing as it copies. */
  async concat(paths: readonly string[]): Promise<{ path: string } & Digest> {
    await this.ready();
    const path = this.allocate();
    const hash = createHash("sha256");
    let size = 0;
    const out = createWriteStream(path);
    try {
      for (const part of paths) {
        const input = createReadStream(part);
        input.on("data", (chunk) => {
          const bytes = chunk as Buffer;
          size += bytes.length;
          hash.update(bytes);
        });
        await pipeline(input, out, { end: false });
      }
    } finally {
      await new Promise<void>((resolve) => out.end(resolve));
    }
    this.keep(path);
    return { path, size, sha256: hash.digest("hex") };
  }

  /** Up to `limit` bytes from the start of a file's content. */
  async head(content: FileContent, limit: number): Promise<Buffer> {
    if (content.kind === "memory") return content.bytes.subarray(0, limit);
    const handle = await open(content.path, "r");
    try {
      const buffer = Buffer.alloc(limit);
      const { bytesRead } = await handle.read(buffer, 0, limit, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  /** The content's lines, read as a stream (for batch input files). */
  async *lines(content: FileContent): AsyncGenerator<string> {
    if (content.kind === "memory") {
      yield* content.bytes.toString("utf8").split(/\r?\n/);
      return;
    }
    let rest = "";
    for await (const chunk of createReadStream(content.path, { encoding: "utf8" })) {
      const lines = (rest + (chunk as string)).split(/\r?\n/);
      rest = lines.pop() ?? "";
      yield* lines;
    }
    yield rest;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const dir = await this.#dir?.catch(() => undefined);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}
