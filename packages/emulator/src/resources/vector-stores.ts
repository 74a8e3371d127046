/**
 * Vector stores, their files and file batches. A vector-store file is `in_progress` until the job
 * duration has passed or it (its store, or its batch) is retrieved; then `completed`. A store's
 * status and counts follow its files.
 */
import { azureErrors } from "../errors.ts";
import { json, type ResourceContext, type ResourceHandler, seconds } from "./context.ts";
import type {
  FileStatus,
  VectorStoreBatchEntry,
  VectorStoreEntry,
  VectorStoreFields,
  VectorStoreFile,
  VectorStoreFileEntry,
} from "./entries.ts";
import { Fields, jsonObject, refuse } from "./fields.ts";
import { fileOf } from "./files.ts";
import { Lifecycle } from "./lifecycle.ts";
import { OPENAI_LIST, paginate } from "./lists.ts";

const FILE_STATUSES: readonly FileStatus[] = ["in_progress", "completed", "cancelled", "failed"];
const MAX_BATCH_FILES = 500;
const SEARCH_RESULTS = 10;
const CONTENT_LIMIT = 64 * 1024;
const DEFAULT_CHUNKING = {
  type: "static",
  static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 },
};

function storeOf(context: ResourceContext, id: string): VectorStoreEntry {
  const store =
    context.state.vectorStores.get(id) ??
    refuse(azureErrors.objectNotFound(`No vector store found with id '${id}'.`));
  store.lastActiveAt = context.now;
  return store;
}

function fileEntryOf(store: VectorStoreEntry, id: string): VectorStoreFileEntry {
  return (
    store.files.get(id) ??
    refuse(
      azureErrors.objectNotFound(`No file found with id '${id}' in vector store '${store.id}'.`),
    )
  );
}

function batchOf(store: VectorStoreEntry, id: string): VectorStoreBatchEntry {
  return (
    store.batches.get(id) ??
    refuse(azureErrors.objectNotFound(`No file batch found with id '${id}'.`))
  );
}

function counts(files: Iterable<VectorStoreFileEntry>) {
  const counted = { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 };
  for (const { object } of files) {
    counted[object.status] += 1;
    counted.total += 1;
  }
  return counted;
}

function storeObject(store: VectorStoreEntry) {
  const files = [...store.files.values()];
  const fileCounts = counts(files);
  return {
    id: store.id,
    object: "vector_store",
    created_at: store.createdAt,
    name: store.fields.name,
    usage_bytes: files.reduce(
      (sum, f) => sum + (f.object.status === "completed" ? f.object.usage_bytes : 0),
      0,
    ),
    file_counts: fileCounts,
    status: fileCounts.in_progress > 0 ? "in_progress" : "completed",
    last_active_at: seconds(store.lastActiveAt),
    metadata: store.fields.metadata,
    expires_after: store.fields.expires_after,
    expires_at: null,
  };
}

function batchObject(store: VectorStoreEntry, batch: VectorStoreBatchEntry) {
  const files = batch.fileIds.flatMap((id) => store.files.get(id) ?? []);
  const fileCounts = counts(files);
  let status: FileStatus = fileCounts.in_progress > 0 ? "in_progress" : "completed";
  if (batch.cancelled) status = "cancelled";
  return {
    id: batch.id,
    object: "vector_store.files_batch",
    created_at: batch.createdAt,
    vector_store_id: store.id,
    status,
    file_counts: fileCounts,
  };
}

/** Moves in-progress files on one step, as if they were each retrieved. */
function pokeFiles(files: Iterable<VectorStoreFileEntry>, now: number): void {
  for (const file of files) file.lifecycle.poke(now);
}

function addStoreFile(
  store: VectorStoreEntry,
  fileId: string,
  context: ResourceContext,
  extra: { attributes?: Record<string, unknown>; chunking?: unknown; batchId?: string } = {},
): VectorStoreFileEntry {
  const existing = store.files.get(fileId);
  if (existing !== undefined) return existing;
  const file = context.state.files.get(fileId);
  if (file === undefined) {
    refuse(azureErrors.invalidRequest(`File '${fileId}' not found.`, "file_id"));
  }
  const entry: VectorStoreFileEntry = {
    object: {
      id: fileId,
      object: "vector_store.file",
      usage_bytes: file.object.bytes,
      created_at: seconds(context.now),
      vector_store_id: store.id,
      status: "in_progress",
      last_error: null,
      chunking_strategy: extra.chunking ?? DEFAULT_CHUNKING,
      attributes: extra.attributes ?? {},
    },
    lifecycle: context.lifecycles.track(
      new Lifecycle<FileStatus>(
        ["in_progress", "completed"],
        context.now,
        context.jobDurationMs,
        (status) => {
          entry.object.status = status;
        },
      ),
    ),
    batchId: extra.batchId,
  };
  store.files.set(fileId, entry);
  return entry;
}

function applyStoreFields(target: VectorStoreFields, fields: Fields): void {
  target.name = fields.string("name", 256) ?? target.name;
  target.metadata = fields.metadata() ?? target.metadata;
  const expires = fields.object("expires_after");
  if (expires !== undefined) {
    if (expires.anchor !== "last_active_at" || typeof expires.days !== "number") {
      fields.fail(
        "Invalid 'expires_after': expected {anchor: 'last_active_at', days}.",
        "expires_after",
      );
    }
    target.expires_after = expires;
  }
}

// ---- vector stores ----

const createStore: ResourceHandler = (call, context) => {
  const fields = new Fields(jsonObject(call.body, "openai"), "openai");
  const fileIds = fields.stringArray("file_ids", MAX_BATCH_FILES) ?? [];
  const chunking = fields.object("chunking_strategy");
  const store: VectorStoreEntry = {
    id: `vs_${context.newId()}`,
    createdAt: seconds(context.now),
    lastActiveAt: context.now,
    fields: { name: null, metadata: {}, expires_after: null },
    files: new Map(),
    batches: new Map(),
  };
  applyStoreFields(store.fields, fields);
  for (const id of fileIds) {
    if (!context.state.files.has(id)) fields.fail(`File '${id}' not found.`, "file_ids");
  }
  for (const id of fileIds) addStoreFile(store, id, context, { chunking });
  context.state.vectorStores.set(store.id, store);
  return json(storeObject(store));
};

const listStores: ResourceHandler = (call, context) => {
  const stores = [...context.state.vectorStores.values()].map(storeObject);
  return json(paginate(stores, (s) => s.id, call.query, OPENAI_LIST));
};

const retrieveStore: ResourceHandler = (call, context) => {
  const store = storeOf(context, call.params.vector_store_id ?? "");
  pokeFiles(store.files.values(), context.now);
  return json(storeObject(store));
};

const modifyStore: ResourceHandler = (call, context) => {
  const store = storeOf(context, call.params.vector_store_id ?? "");
  const fields = new Fields(jsonObject(call.body, "openai"), "openai");
  const draft = { ...store.fields };
  applyStoreFields(draft, fields);
  store.fields = draft;
  return json(storeObject(store));
};

const deleteStore: ResourceHandler = (call, context) => {
  const store = storeOf(context, call.params.vector_store_id ?? "");
  for (const file of store.files.values()) file.lifecycle.freeze();
  context.state.vectorStores.delete(store.id);
  return json({ id: store.id, object: "vector_store.deleted", deleted: true });
};

const searchStore: ResourceHandler = async (call, context) => {
  const store = storeOf(context, call.params.vector_store_id ?? "");
  const fields = new Fields(jsonObject(call.body, "openai"), "openai");
  fields.required("query");
  const { query } = fields.json;
  if (typeof query !== "string" && !Array.isArray(query)) {
    fields.fail("Invalid type for 'query': expected a string or an array of strings.", "query");
  }
  const limit = fields.integer("max_num_results", 1, 50) ?? SEARCH_RESULTS;
  const completed = [...store.files.values()].filter((f) => f.object.status === "completed");
  const data = await Promise.all(
    completed.slice(0, limit).map(async (entry, index) => {
      const file = context.state.files.get(entry.object.id);
      const text =
        file === undefined ? "" : (await context.files.head(file.content, 512)).toString("utf8");
      return {
        file_id: entry.object.id,
        filename: file?.object.filename ?? "",
        score: Math.round((0.9 - index * 0.05) * 100) / 100,
        attributes: entry.object.attributes,
        content: [{ type: "text", text }],
      };
    }),
  );
  return json({
    object: "vector_store.search_results.page",
    search_query: Array.isArray(query) ? query : [query],
    data,
    has_more: false,
    next_page: null,
  });
};

// ---- vector store files ----

function filterFiles(
  files: Iterable<VectorStoreFileEntry>,
  filter: string | undefined,
): VectorStoreFile[] {
  if (filter !== undefined && !(FILE_STATUSES as readonly string[]).includes(filter)) {
    refuse(
      azureErrors.invalidRequest(
        `Invalid value for 'filter': expected one of ${FILE_STATUSES.join(", ")}, got '${filter}'.`,
        "filter",
      ),
    );
  }
  return [...files].map((f) => f.object).filter((f) => filter === undefined || f.status === filter);
}

const createStoreFile: ResourceHandler = (call, context) => {
  const store = storeOf(context, call.params.vector_store_id ?? "");
  const fields = new Fields(jsonObject(call.body, "openai"), "openai");
  const fileId = fields.requiredString("file_id");
  const attributes = fields.object("attributes");
  const chunking = fields.object("chunking_strategy");
  return json(addStoreFile(store, fileId, context, { attributes, chunking }).object);
};

const listStoreFiles: ResourceHandler = (call, context) => {
  const store = storeOf(context, call.params.vector_store_id ?? "");
  const files = filterFiles(store.files.values(), call.query.filter);
  return json(paginate(files, (f) => f.id, call.query, OPENAI_LIST));
};

const retrieveStoreFile: ResourceHandler = (call, context) => {
  const store = storeOf(context, call.params.vector_store_id ?? "");
  const file = fileEntryOf(store, call.params.file_id ?? "");
  file.lifecycle.poke(context.now);
  return json(file.object);
};

const updateStoreFile: ResourceHandler = (call, context) => {
  const store = storeOf(context, call.params.vector_store_id ?? "");
  const file = fileEntryOf(store, call.params.file_id ?? "");
  const fields = new Fields(jsonObject(call.body, "openai"), "openai");
  fields.required("attributes");
  file.object.attributes = fields.object("attributes") ?? {};
  return json(file.object);
};

const deleteStoreFile: ResourceHandler = (call, context) => {
  const store = storeOf(context, call.params.vector_store_id ?? "");
  const file = fileEntryOf(store, call.params.file_id ?? "");
  file.lifecycle.freeze();
  store.files.delete(file.object.id);
  return json({ id: file.object.id, object: "vector_store.file.deleted", deleted: true });
};

const storeFileContent: ResourceHandler = async (call, context) => {
  const store = storeOf(context, call.params.vector_store_id ?? "");
  const entry = fileEntryOf(store, call.params.file_id ?? "");
  const file = fileOf(context, entry.object.id);
  const text = (await context.files.head(file.content, CONTENT_LIMIT)).toString("utf8");
  return json({
    object: "vector_store.file_content.page",
    data: [{ type: "text", text }],
    has_more: false,
    next_page: null,
  });
};

// ---- file batches ----

const createBatch: ResourceHandler = (call, context) => {
  const store = storeOf(context, call.params.vector_store_id ?? "");
  const fields = new Fields(jsonObject(call.body, "openai"), "openai");
  fields.required("file_ids");
  const fileIds = fields.stringArray("file_ids", MAX_BATCH_FILES) ?? [];
  if (fileIds.length === 0) fields.fail("Invalid 'file_ids': empty array.", "file_ids");
  for (const id of fileIds) {
    if (!context.state.files.has(id)) fields.fail(`File '${id}' not found.`, "file_ids");
  }
  const attributes = fields.object("attributes");
  const chunking = fields.object("chunking_strategy");
  const batch: VectorStoreBatchEntry = {
    id: `vsfb_${context.newId()}`,
    createdAt: seconds(context.now),
    fileIds,
    cancelled: false,
  };
  for (const id of fileIds) {
    addStoreFile(store, id, context, { attributes, chunking, batchId: batch.id });
  }
  store.batches.set(batch.id, batch);
  return json(batchObject(store, batch));
};

function batchFiles(store: VectorStoreEntry, batch: VectorStoreBatchEntry): VectorStoreFileEntry[] {
  return batch.fileIds.flatMap((id) => store.files.get(id) ?? []);
}

const retrieveBatch: ResourceHandler = (call, context) => {
  const store = storeOf(context, call.params.vector_store_id ?? "");
  const batch = batchOf(store, call.params.batch_id ?? "");
  pokeFiles(batchFiles(store, batch), context.now);
  return json(batchObject(store, batch));
};

const cancelBatch: ResourceHandler = (call, context) => {
  const store = storeOf(context, call.params.vector_store_id ?? "");
  const batch = batchOf(store, call.params.batch_id ?? "");
  const files = batchFiles(store, batch);
  for (const file of files) file.lifecycle.tick(context.now);
  if (!files.some((f) => f.object.status === "in_progress")) {
    refuse(
      azureErrors.invalidRequest(
        `Cannot cancel file batch '${batch.id}': it is ${batchObject(store, batch).status}.`,
      ),
    );
  }
  for (const file of files) {
    if (file.object.status !== "in_progress") continue;
    file.lifecycle.restart(["cancelled"], context.now);
  }
  batch.cancelled = true;
  return json(batchObject(store, batch));
};

const listBatchFiles: ResourceHandler = (call, context) => {
  const store = storeOf(context, call.params.vector_store_id ?? "");
  const batch = batchOf(store, call.params.batch_id ?? "");
  const files = filterFiles(batchFiles(store, batch), call.query.filter);
  return json(paginate(files, (f) => f.id, call.query, OPENAI_LIST));
};

export const VECTOR_STORE_HANDLERS = {
  "vectorStores.create": createStore,
  "vectorStores.list": listStores,
  "vectorStores.retrieve": retrieveStore,
  "vectorStores.modify": modifyStore,
  "vectorStores.delete": deleteStore,
  "vectorStores.search": searchStore,
  "vectorStoreFiles.create": createStoreFile,
  "vectorStoreFiles.list": listStoreFiles,
  "vectorStoreFiles.retrieve": retrieveStoreFile,
  "vectorStoreFiles.update": updateStoreFile,
  "vectorStoreFiles.delete": deleteStoreFile,
  "vectorStoreFiles.content": storeFileContent,
  "vectorStoreFileBatches.create": createBatch,
  "vectorStoreFileBatches.retrieve": retrieveBatch,
  "vectorStoreFileBatches.cancel": cancelBatch,
  "vectorStoreFileBatches.listFiles": listBatchFiles,
} satisfies Record<string, ResourceHandler>;
