/**
 * The shapes the emulator's resource handlers keep and answer with: a leaf module, so the
 * context that holds the records and the handlers that use them import it without importing
 * each other.
 */

import type { TextPlan } from "../answers.ts";
import type { EmulatorDeployment } from "../types.ts";
import type { Fields } from "./fields.ts";
import type { FileContent } from "./file-store.ts";
import type { Lifecycle } from "./lifecycle.ts";

export type Metadata = Record<string, string>;

export interface AssistantObject {
  id: string;
  object: "assistant";
  created_at: number;
  name: string | null;
  description: string | null;
  model: string;
  instructions: string | null;
  tools: unknown[];
  tool_resources: Record<string, unknown>;
  metadata: Metadata;
  top_p: number;
  temperature: number;
  response_format: unknown;
}

export interface AssistantEntry {
  object: AssistantObject;
}

export interface ThreadObject {
  id: string;
  object: "thread";
  created_at: number;
  metadata: Metadata;
  tool_resources: Record<string, unknown>;
}

export interface MessageObject {
  id: string;
  object: "thread.message";
  created_at: number;
  thread_id: string;
  status: "in_progress" | "completed" | "incomplete";
  incomplete_details: { reason: string } | null;
  completed_at: number | null;
  incomplete_at: number | null;
  role: "user" | "assistant";
  content: unknown[];
  assistant_id: string | null;
  run_id: string | null;
  attachments: unknown[];
  metadata: Metadata;
}

export interface ThreadEntry {
  object: ThreadObject;
  messages: Map<string, MessageObject>;
  runs: Map<string, RunEntry>;
}

export type BatchStatus =
  | "validating"
  | "failed"
  | "in_progress"
  | "finalizing"
  | "completed"
  | "expired"
  | "cancelling"
  | "cancelled";

export interface BatchLineError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

export interface BatchObject {
  object: "batch";
  id: string;
  endpoint: string;
  errors: { object: "list"; data: BatchLineError[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

export interface BatchEntry {
  object: BatchObject;
  lifecycle: Lifecycle<BatchStatus>;
}

export interface Answered {
  output: string[];
  errors: string[];
}

export interface LineAnswer {
  status: number;
  body: unknown;
}

/** Purposes of the files the emulator makes itself. */
export type OutputPurpose = "assistants_output" | "batch_output" | "fine-tune-results";

export interface FileObject {
  object: "file";
  id: string;
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: "processed";
}

export interface StoredFile {
  object: FileObject;
  content: FileContent;
  sha256: string;
}

export interface UploadObject {
  object: "upload";
  id: string;
  bytes: number;
  created_at: number;
  expires_at: number;
  filename: string;
  purpose: string;
  status: "pending" | "completed" | "cancelled" | "expired";
  file: FileObject | null;
}

export interface UploadPart {
  id: string;
  path: string;
  size: number;
}

export interface UploadEntry {
  object: UploadObject;
  mimeType: string;
  parts: Map<string, UploadPart>;
}

export type JobStatus = "pending" | "running" | "succeeded" | "paused" | "cancelled" | "failed";

export interface Hyperparameters {
  n_epochs: number;
  batch_size: number;
  learning_rate_multiplier: number;
}

export interface JobObject {
  object: "fine_tuning.job";
  id: string;
  created_at: number;
  model: string;
  training_file: string;
  validation_file: string | null;
  status: JobStatus;
  fine_tuned_model: string | null;
  finished_at: number | null;
  error: null;
  result_files: string[];
  trained_tokens: number | null;
  hyperparameters: Hyperparameters;
  seed: number;
  suffix: string | null;
  organization_id: string;
  estimated_finish: number | null;
  integrations: null;
  metadata: Record<string, string> | null;
  method?: Record<string, unknown>;
}

export interface JobEvent {
  object: "fine_tuning.job.event";
  id: string;
  created_at: number;
  level: "info";
  message: string;
  type: "message" | "metrics";
}

export interface Checkpoint {
  object: "fine_tuning.job.checkpoint";
  id: string;
  created_at: number;
  fine_tuned_model_checkpoint: string;
  step_number: number;
  metrics: Record<string, number>;
  fine_tuning_job_id: string;
}

export interface FineTuningJobEntry {
  object: JobObject;
  lifecycle: Lifecycle<JobStatus>;
  events: JobEvent[];
  checkpoints: Checkpoint[];
  trainingBytes: number;
}

export type ResponseStatus = "queued" | "in_progress" | "completed" | "incomplete" | "cancelled";

export interface OutputMessage {
  id: string;
  type: "message";
  status: "in_progress" | "completed" | "incomplete";
  role: "assistant";
  content: { type: "output_text"; text: string; annotations: never[] }[];
}

export interface OutputFunctionCall {
  id: string;
  type: "function_call";
  status: "completed";
  call_id: string;
  name: string;
  arguments: string;
}

export type OutputItem = OutputMessage | OutputFunctionCall;

export type InputItem = Record<string, unknown> & { id: string };

export interface ResponseObject {
  id: string;
  object: "response";
  created_at: number;
  status: ResponseStatus;
  background: boolean;
  error: null;
  incomplete_details: { reason: string } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: null; summary: null };
  store: boolean;
  temperature: number;
  text: Record<string, unknown>;
  tool_choice: unknown;
  tools: unknown[];
  top_p: number;
  truncation: string;
  usage: {
    input_tokens: number;
    input_tokens_details: { cached_tokens: number };
    output_tokens: number;
    output_tokens_details: { reasoning_tokens: number };
    total_tokens: number;
  } | null;
  user: string | null;
  metadata: Record<string, string>;
}

export interface ResponseEntry {
  object: ResponseObject;
  /** What the response is (or will be) once done. */
  final: ResponseObject;
  plan: TextPlan;
  inputItems: InputItem[];
  lifecycle?: Lifecycle<ResponseStatus>;
}

export interface Built {
  final: ResponseObject;
  plan: TextPlan;
  inputItems: InputItem[];
  background: boolean;
  stream: boolean;
}

export type RunStatus =
  | "queued"
  | "in_progress"
  | "requires_action"
  | "cancelling"
  | "cancelled"
  | "completed"
  | "incomplete";

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string; output?: string | null };
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface RunObject {
  id: string;
  object: "thread.run";
  created_at: number;
  assistant_id: string;
  thread_id: string;
  status: RunStatus;
  started_at: number | null;
  expires_at: number | null;
  cancelled_at: number | null;
  failed_at: number | null;
  completed_at: number | null;
  required_action: {
    type: "submit_tool_outputs";
    submit_tool_outputs: { tool_calls: ToolCall[] };
  } | null;
  last_error: null;
  model: string;
  instructions: string;
  tools: unknown[];
  metadata: Metadata;
  incomplete_details: { reason: string } | null;
  usage: Usage | null;
  temperature: number;
  top_p: number;
  max_prompt_tokens: number | null;
  max_completion_tokens: number | null;
  truncation_strategy: unknown;
  response_format: unknown;
  tool_choice: unknown;
  parallel_tool_calls: boolean;
}

export interface StepObject {
  id: string;
  object: "thread.run.step";
  created_at: number;
  assistant_id: string;
  thread_id: string;
  run_id: string;
  type: "message_creation" | "tool_calls";
  status: "in_progress" | "completed" | "cancelled";
  step_details:
    | { type: "message_creation"; message_creation: { message_id: string } }
    | { type: "tool_calls"; tool_calls: ToolCall[] };
  last_error: null;
  expired_at: null;
  cancelled_at: number | null;
  failed_at: null;
  completed_at: number | null;
  metadata: Metadata;
  usage: Usage | null;
}

export interface RunEntry {
  object: RunObject;
  lifecycle: Lifecycle<RunStatus>;
  steps: Map<string, StepObject>;
  deployment: EmulatorDeployment;
  /** Pending function call, when the run asks for tool outputs. */
  toolCall?: { step: StepObject; call: ToolCall };
  /** What the run answers about: the last user message, or the tool outputs. */
  said: string;
  /** Receives Assistants stream events while a streamed request is being answered. */
  emit: (event: string, data: unknown) => void;
}

export interface RunRequest {
  assistant: AssistantObject;
  thread: ThreadEntry;
  fields: Fields;
}

export type FileStatus = "in_progress" | "completed" | "cancelled" | "failed";

export interface VectorStoreFile {
  id: string;
  object: "vector_store.file";
  usage_bytes: number;
  created_at: number;
  vector_store_id: string;
  status: FileStatus;
  last_error: null;
  chunking_strategy: unknown;
  attributes: Record<string, unknown>;
}

export interface VectorStoreFileEntry {
  object: VectorStoreFile;
  lifecycle: Lifecycle<FileStatus>;
  batchId?: string;
}

export interface VectorStoreBatchEntry {
  id: string;
  createdAt: number;
  fileIds: string[];
  cancelled: boolean;
}

export interface VectorStoreFields {
  name: string | null;
  metadata: Record<string, string>;
  expires_after: unknown;
}

export interface VectorStoreEntry {
  id: string;
  createdAt: number;
  lastActiveAt: number;
  fields: VectorStoreFields;
  files: Map<string, VectorStoreFileEntry>;
  batches: Map<string, VectorStoreBatchEntry>;
}
