/**
 * The state one emulator keeps for its resource-scoped objects, and what a resource handler gets:
 * that state, the clock, ids, and the deployments. Everything lives in memory except uploaded
 * file bytes (see {@link FileStore}).
 */
import type { FineTunedModel } from "../catalog.ts";
import type { ResourceCall } from "../dispatch.ts";
import type { Reply } from "../reply.ts";
import type { EmulatorDeployment } from "../types.ts";
import type {
  AssistantEntry,
  BatchEntry,
  FineTuningJobEntry,
  ResponseEntry,
  StoredFile,
  ThreadEntry,
  UploadEntry,
  VectorStoreEntry,
} from "./entries.ts";
import type { FileStore } from "./file-store.ts";
import type { Lifecycles } from "./lifecycle.ts";

/** Every stored object, by id, in creation order. */
export interface ResourceState {
  files: Map<string, StoredFile>;
  uploads: Map<string, UploadEntry>;
  fineTuningJobs: Map<string, FineTuningJobEntry>;
  fineTunedModels: FineTunedModel[];
  batches: Map<string, BatchEntry>;
  responses: Map<string, ResponseEntry>;
  assistants: Map<string, AssistantEntry>;
  threads: Map<string, ThreadEntry>;
  vectorStores: Map<string, VectorStoreEntry>;
}

export function emptyState(): ResourceState {
  return {
    files: new Map(),
    uploads: new Map(),
    fineTuningJobs: new Map(),
    fineTunedModels: [],
    batches: new Map(),
    responses: new Map(),
    assistants: new Map(),
    threads: new Map(),
    vectorStores: new Map(),
  };
}

/** What stays the same for every request of one emulator. */
export interface ResourceEnv {
  state: ResourceState;
  files: FileStore;
  lifecycles: Lifecycles;
  deployments: ReadonlyMap<string, EmulatorDeployment>;
  jobDurationMs: number;
  /** A fresh random id without prefix (32 hex digits). */
  newId: () => string;
}

/** A handler's view of one request. */
export interface ResourceContext extends ResourceEnv {
  /** Milliseconds since the epoch, fixed for the request. */
  now: number;
  /** From `x-emulator-words`: answer generated text with exactly this many words. */
  forcedWords?: number;
}

export function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/**
 * A request that runs a deployment (creating a response): checked and ready, answered only after
 * the server has applied any fault queued for that deployment.
 */
export interface ModelCall {
  kind: "model-call";
  deployment: EmulatorDeployment;
  /** Quoted in 429 messages. */
  operationId: string;
  answer: () => Reply;
}

export type ResourceAnswer = Reply | ModelCall;

export type ResourceHandler = (
  call: ResourceCall,
  context: ResourceContext,
) => ResourceAnswer | Promise<ResourceAnswer>;

export function json(body: unknown, status = 200): Reply {
  return { kind: "json", status, body };
}

/** Azure's authoring API answers creations with 201 in the dated style, 200 in v1. */
export function created(call: ResourceCall, body: unknown): Reply {
  return json(body, call.style === "dated" ? 201 : 200);
}
