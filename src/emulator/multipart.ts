import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import busboy from "busboy";
import type { RecordedFile, RecordedMultipart } from "./types.ts";

export interface MultipartReceipt {
  form: RecordedMultipart;
  /** Raw body bytes received. */
  size: number;
  /** Set when the body is not a well-formed multipart form. */
  error?: string;
}

export function isMultipart(contentType: string | undefined): boolean {
  return contentType?.toLowerCase().startsWith("multipart/form-data") ?? false;
}

/**
 * Reads a multipart form without buffering its files: each file is hashed and counted as it
 * streams through. Resolves undefined if the client goes away before the body is complete.
 */
export function receiveMultipart(req: IncomingMessage): Promise<MultipartReceipt | undefined> {
  const form: RecordedMultipart = { fields: {}, files: [] };
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
      if (req.readableEnded) return settle({ form, size, error });
      req.unpipe();
      req.resume();
      req.once("end", () => settle({ form, size, error }));
    };
    req.once("close", () => {
      if (!req.complete) settle(undefined);
    });
    req.once("error", () => settle(undefined));

    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers });
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
      fileEnds.push(
        new Promise((fileEnded) => {
          stream.once("end", () => {
            const file: RecordedFile = {
              field,
              filename: info.filename ?? "",
              mimeType: info.mimeType,
              size: fileSize,
              sha256: hash.digest("hex"),
            };
            form.files.push(file);
            fileEnded();
          });
          stream.once("error", () => fileEnded());
        }),
      );
    });
    parser.once("finish", () => {
      void Promise.all(fileEnds).then(() => settle({ form, size }));
    });
    parser.once("error", (error: Error) =>
      failAfterDraining(`Malformed multipart request: ${error.message}`),
    );
    req.pipe(parser);
  });
}
