/** Files and uploads (authoring API 2024-10-21 `File`, `UploadResource`). */
import { createHash } from "node:crypto";
import type { ResourceCall } from "../dispatch.ts";
import { azureErrors } from "../errors.ts";
import type { SavedFile } from "../multipart.ts";
import { created, json, type ResourceContext, type ResourceHandler, seconds } from "./context.ts";
import type { OutputPurpose, StoredFile, UploadEntry } from "./entries.ts";
import { Fields, jsonObject, refuse } from "./fields.ts";
import type { FileContent } from "./file-store.ts";
import { paginate } from "./lists.ts";

export const FILE_PURPOSES = [
  "assistants",
  "batch",
  "fine-tune",
  "evals",
  "user_data",
  "vision",
] as const;

/** Largest upload part OpenAI accepts. */
const MAX_PART_BYTES = 64 * 1024 * 1024;
const MAX_UPLOAD_BYTES = 8 * 1024 * 1024 * 1024;
const UPLOAD_LIFETIME_S = 60 * 60;

export function addFile(
  context: ResourceContext,
  file: { filename: string; purpose: string; bytes: number; sha256: string; content: FileContent },
): StoredFile {
  const stored: StoredFile = {
    object: {
      object: "file",
      id: `file-${context.newId()}`,
      bytes: file.bytes,
      created_at: seconds(context.now),
      filename: file.filename,
      purpose: file.purpose,
      status: "processed",
    },
    content: file.content,
    sha256: file.sha256,
  };
  if (file.content.kind === "disk") context.files.keep(file.content.path);
  context.state.files.set(stored.object.id, stored);
  return stored;
}

/** Stores a file the emulator made itself (kept in memory: these are small). */
export function addGeneratedFile(
  context: ResourceContext,
  filename: string,
  purpose: OutputPurpose,
  text: string,
): StoredFile {
  const bytes = Buffer.from(text);
  return addFile(context, {
    filename,
    purpose,
    bytes: bytes.length,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    content: { kind: "memory", bytes },
  });
}

/** The stored file, or the authoring API's 404. */
export function fileOf(context: ResourceContext, id: string): StoredFile {
  return (
    context.state.files.get(id) ?? refuse(azureErrors.notFound(`File with id '${id}' not found.`))
  );
}

function savedFile(call: ResourceCall, field: string): SavedFile | undefined {
  return call.body.saved?.find((s) => s.file.field === field);
}

function multipartForm(call: ResourceCall) {
  const form = call.body.multipart;
  if (form === undefined) {
    refuse(azureErrors.badRequest("This operation expects a multipart/form-data body."));
  }
  if (call.body.multipartError !== undefined) {
    refuse(azureErrors.badRequest(call.body.multipartError));
  }
  return form;
}

function purposeOf(value: string | undefined, param = "purpose"): string {
  if (value === undefined || value === "") {
    refuse(azureErrors.invalidPayload(`Missing required parameter: '${param}'.`, param));
  }
  if (!(FILE_PURPOSES as readonly string[]).includes(value)) {
    refuse(
      azureErrors.invalidPayload(
        `Invalid value for '${param}': expected one of ${FILE_PURPOSES.join(", ")}, got '${value}'.`,
        param,
      ),
    );
  }
  return value;
}

// ---- files ----

const createFile: ResourceHandler = (call, context) => {
  const form = multipartForm(call);
  const purpose = purposeOf(form.fields.purpose);
  const saved = savedFile(call, "file");
  if (saved === undefined) {
    refuse(azureErrors.invalidPayload("Missing required parameter: 'file'.", "file"));
  }
  const stored = addFile(context, {
    filename: saved.file.filename,
    purpose,
    bytes: saved.file.size,
    sha256: saved.file.sha256,
    content: { kind: "disk", path: saved.path },
  });
  return created(call, stored.object);
};

const listFiles: ResourceHandler = (call, context) => {
  const { purpose } = call.query;
  const files = [...context.state.files.values()]
    .map((f) => f.object)
    .filter((f) => purpose === undefined || f.purpose === purpose);
  return json(
    paginate(files, (f) => f.id, call.query, { order: "desc", limit: 10_000, maxLimit: 10_000 }),
  );
};

const retrieveFile: ResourceHandler = (call, context) =>
  json(fileOf(context, call.params.file_id ?? "").object);

const deleteFile: ResourceHandler = async (call, context) => {
  const file = fileOf(context, call.params.file_id ?? "");
  context.state.files.delete(file.object.id);
  await context.files.release(file.content);
  return json({ id: file.object.id, object: "file", deleted: true });
};

const fileContent: ResourceHandler = (call, context) => {
  const { content, object } = fileOf(context, call.params.file_id ?? "");
  const contentType = "application/octet-stream";
  return content.kind === "disk"
    ? { kind: "file", path: content.path, size: object.bytes, contentType }
    : { kind: "binary", contentType, chunks: [content.bytes] };
};

// ---- uploads ----

function uploadOf(context: ResourceContext, id: string): UploadEntry {
  return (
    context.state.uploads.get(id) ??
    refuse(azureErrors.notFound(`Upload with id '${id}' not found.`))
  );
}

function pendingUpload(context: ResourceContext, id: string): UploadEntry {
  const upload = uploadOf(context, id);
  if (upload.object.status !== "pending") {
    refuse(
      azureErrors.unexpectedEntityState(
        `Upload '${id}' has status '${upload.object.status}'; only pending uploads accept this operation.`,
      ),
    );
  }
  return upload;
}

async function dropParts(context: ResourceContext, upload: UploadEntry): Promise<void> {
  await Promise.all([...upload.parts.values()].map((p) => context.files.remove(p.path)));
  upload.parts.clear();
}

const createUpload: ResourceHandler = (call, context) => {
  const fields = new Fields(jsonObject(call.body, "authoring"), "authoring");
  const filename = fields.requiredString("filename");
  const purpose = purposeOf(fields.string("purpose"));
  fields.required("bytes");
  const bytes = fields.integer("bytes", 0, MAX_UPLOAD_BYTES) as number;
  const mimeType = fields.requiredString("mime_type");
  const createdAt = seconds(context.now);
  const upload: UploadEntry = {
    object: {
      object: "upload",
      id: `upload_${context.newId()}`,
      bytes,
      created_at: createdAt,
      expires_at: createdAt + UPLOAD_LIFETIME_S,
      filename,
      purpose,
      status: "pending",
      file: null,
    },
    mimeType,
    parts: new Map(),
  };
  context.state.uploads.set(upload.object.id, upload);
  return json(upload.object);
};

const addUploadPart: ResourceHandler = (call, context) => {
  const upload = pendingUpload(context, call.params.upload_id ?? "");
  multipartForm(call);
  const saved = savedFile(call, "data");
  if (saved === undefined) {
    refuse(azureErrors.invalidPayload("Missing required parameter: 'data'.", "data"));
  }
  if (saved.file.size > MAX_PART_BYTES) {
    refuse(azureErrors.invalidPayload(`A part may hold at most ${MAX_PART_BYTES} bytes.`, "data"));
  }
  const id = `part_${context.newId()}`;
  context.files.keep(saved.path);
  upload.parts.set(id, { id, path: saved.path, size: saved.file.size });
  return json({
    object: "upload.part",
    id,
    created_at: seconds(context.now),
    upload_id: upload.object.id,
    azure_block_id: Buffer.from(id).toString("base64"),
  });
};

const completeUpload: ResourceHandler = async (call, context) => {
  const upload = pendingUpload(context, call.params.upload_id ?? "");
  const fields = new Fields(jsonObject(call.body, "authoring"), "authoring");
  fields.required("part_ids");
  const partIds = fields.stringArray("part_ids") as string[];
  fields.string("md5");
  const parts = partIds.map(
    (id) =>
      upload.parts.get(id) ??
      refuse(
        azureErrors.invalidPayload(
          `Part '${id}' is not a part of upload '${upload.object.id}'.`,
          "part_ids",
        ),
      ),
  );
  if (new Set(partIds).size !== partIds.length) {
    refuse(azureErrors.invalidPayload("'part_ids' lists a part twice.", "part_ids"));
  }
  const total = parts.reduce((sum, p) => sum + p.size, 0);
  if (total !== upload.object.bytes) {
    refuse(
      azureErrors.invalidPayload(
        `The parts hold ${total} bytes, but the upload was created with bytes=${upload.object.bytes}.`,
        "part_ids",
      ),
    );
  }
  const joined = await context.files.concat(parts.map((p) => p.path));
  const file = addFile(context, {
    filename: upload.object.filename,
    purpose: upload.object.purpose,
    bytes: joined.size,
    sha256: joined.sha256,
    content: { kind: "disk", path: joined.path },
  });
  await dropParts(context, upload);
  upload.object.status = "completed";
  upload.object.file = file.object;
  return json(upload.object);
};

const cancelUpload: ResourceHandler = async (call, context) => {
  const upload = pendingUpload(context, call.params.upload_id ?? "");
  await dropParts(context, upload);
  upload.object.status = "cancelled";
  return json(upload.object);
};

export const FILE_HANDLERS = {
  "files.create": createFile,
  "files.list": listFiles,
  "files.retrieve": retrieveFile,
  "files.delete": deleteFile,
  "files.content": fileContent,
  "uploads.create": createUpload,
  "uploads.addPart": addUploadPart,
  "uploads.complete": completeUpload,
  "uploads.cancel": cancelUpload,
} satisfies Record<string, ResourceHandler>;
