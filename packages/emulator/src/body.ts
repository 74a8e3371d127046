import type { IncomingMessage } from "node:http";
import {
  isMultipart,
  type MultipartOptions,
  receiveMultipart,
  type SavedFile,
} from "./multipart.ts";
import type { RecordedMultipart } from "./types.ts";

/** A request body as the emulator understood it. */
export interface ReceivedBody {
  size: number;
  /** Parsed JSON, when the body was non-empty, not multipart, and valid JSON. */
  json?: unknown;
  /** Why a non-empty, non-multipart body is not valid JSON. */
  jsonError?: string;
  multipart?: RecordedMultipart;
  /** Why a multipart body could not be parsed. */
  multipartError?: string;
  /** Multipart file parts written to disk, when the caller asked for them. */
  saved?: SavedFile[];
}

function receiveBytes(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("close", () => {
      if (!req.complete) resolve(undefined);
    });
    req.once("error", () => resolve(undefined));
  });
}

/** Reads the whole body; undefined if the client went away before sending all of it. */
export async function receiveBody(
  req: IncomingMessage,
  options: MultipartOptions = {},
): Promise<ReceivedBody | undefined> {
  if (isMultipart(req.headers["content-type"])) {
    const receipt = await receiveMultipart(req, options);
    if (receipt === undefined) return undefined;
    return {
      size: receipt.size,
      multipart: receipt.form,
      multipartError: receipt.error,
      saved: receipt.saved,
    };
  }
  const bytes = await receiveBytes(req);
  if (bytes === undefined) return undefined;
  if (bytes.length === 0) return { size: 0 };
  try {
    return { size: bytes.length, json: JSON.parse(bytes.toString("utf8")) };
  } catch (error) {
    return { size: bytes.length, jsonError: (error as Error).message };
  }
}
