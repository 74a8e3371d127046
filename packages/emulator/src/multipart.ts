import { createHash } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import type { IncomingMessage } from "node:http";
import busboy from "busboy";
import type { RecordedFile, RecordedMultipart } from "./types.ts";

/** A file part written to disk as it streamed in. */
export interface SavedFile {
  file: RecordedFile;
  path: string;
}

export interface MultipartOptions {
  /**
   * Where to write a file part, chosen by its field name; undefined only hashes and counts it.
   * The file is complete on disk when the receipt resolves.
   */
  saveFile?: (field: string) => string | undefined;
}

export interface MultipartReceipt {
  form: RecordedMultipart;
  /** Raw body bytes received. */
  size: number;
  /** Set when the body is not a well-formed multipart form. */
  error?: string;
  /** File parts written to disk (see {@link MultipartOptions.saveFile}). */
  saved: SavedFile[];
}

export function isMultipart(contentType: string | undefined): boolean {
  return contentType?.toLowerCase().startsWith("multipart/form-data") ?? false;
}

/**
 * Reads a multipart form without buffering its files: each file is hashed and counted as it
 * streams through. Resolves undefined if the client goes away before the body is complete.
 */
export function receiveMultipart(
  req: IncomingMessage,
  options: MultipartOptions = {},
): Promise<MultipartReceipt | undefined> {
  const form: RecordedMultipart = { fields: {}, files: [] };
  const saved: SavedFile[] = [];
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
  });

  return new Promise((resolve) => {
    let settled = false;
    const settle = (receipt: MultipartReceipt | undefined) => {
      if (settled) return;
      settled = true;
      resolve(receipt);
    };
    // A malformed form is still read to its end, so the client gets a 400, not a reset.
    const failAfterDraining = (error: string) => {
      if (req.readableEnded) return settle({ form, size, error, saved });
      req.unpipe();
      req.resume();
      req.once("end", () => settle({ form, size, error, saved }));
    };
    // Open files on disk, closed if the client leaves halfway (the caller removes them).
    const sinks: WriteStream[] = [];
    const dropSinks = () => {
      for (const sink of sinks) sink.destroy();
    };
    req.once("close", () => {
      if (req.complete) return;
      dropSinks();
      settle(undefined);
    });
    req.once("error", () => {
      dropSinks();
      settle(undefined);
    });

    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, defParamCharset: "utf8" });
    } catch (error) {
      failAfterDraining(`Malformed multipart request: ${(error as Error).message}`);
      return;
    }

    const fileEnds: Promise<void>[] = [];
    parser.on("field", (name, value) => {
      form.fields[name] = value;
    });
    parser.on("file", (field, stream, info) => {
      const hash = createHash("sha256");
      let fileSize = 0;
      stream.on("data", (chunk: Buffer) => {
        fileSize += chunk.length;
        hash.update(chunk);
      });
      const path = options.saveFile?.(field);
      // Piping pauses the part (and so the request) while the disk is behind.
      const sink = path === undefined ? undefined : createWriteStream(path);
      if (sink !== undefined) {
        sinks.push(sink);
        stream.pipe(sink);
        stream.once("error", () => sink.destroy());
      }
      const streamEnded = new Promise<boolean>((resolve) => {
        stream.once("end", () => resolve(true));
        stream.once("error", () => resolve(false));
      });
      const sinkDone =
        sink === undefined
          ? Promise.resolve(true)
          : new Promise<boolean>((resolve) => {
              sink.once("finish", () => resolve(true));
              sink.once("error", () => resolve(false));
            });
      fileEnds.push(
        Promise.all([streamEnded, sinkDone]).then(([ended, written]) => {
          if (!ended) return;
          const file: RecordedFile = {
            field,
            filename: info.filename ?? "",
            mimeType: info.mimeType,
            size: fileSize,
            sha256: hash.digest("hex"),
          };
          form.files.push(file);
          if (path !== undefined && written) saved.push({ file, path });
        }),
      );
    });
    parser.once("finish", () => {
      void Promise.all(fileEnds).then(() => settle({ form, size, saved }));
    });
    parser.once("error", (error: Error) =>
      failAfterDraining(`Malformed multipart request: ${error.message}`),
    );
    req.pipe(parser);
  });
}
