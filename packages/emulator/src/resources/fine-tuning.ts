/**
 * Fine-tuning jobs (authoring API `FineTuningJob`): pending → running → succeeded, with events,
 * checkpoints, a results file and a fine-tuned model that `GET /models` then lists. `model` is a
 * base model name, never a deployment.
 */
import { isFineTunable } from "../catalog.ts";
import { azureErrors } from "../errors.ts";
import { created, json, type ResourceContext, type ResourceHandler, seconds } from "./context.ts";
import type { FineTuningJobEntry, Hyperparameters, JobStatus } from "./entries.ts";
import { Fields, isObject, jsonObject, refuse } from "./fields.ts";
import { addGeneratedFile, fileOf } from "./files.ts";
import { Lifecycle } from "./lifecycle.ts";
import { type ListDefaults, paginate } from "./lists.ts";

const TERMINAL: readonly JobStatus[] = ["succeeded", "cancelled", "failed"];
const MAX_SUFFIX = 40;
const JOB_LIST: ListDefaults = { order: "desc", limit: 20, maxLimit: 100 };
// Azure lists a job's events and checkpoints oldest first.
const HISTORY_LIST: ListDefaults = { order: "asc", limit: 20, maxLimit: 100 };
const CHECKPOINT_STEPS = [10, 20, 30];

function jobOf(context: ResourceContext, id: string): FineTuningJobEntry {
  return (
    context.state.fineTuningJobs.get(id) ??
    refuse(azureErrors.notFound(`Fine-tuning job with id '${id}' not found.`))
  );
}

function trainingFile(context: ResourceContext, fields: Fields, name: string): string | undefined {
  const id = fields.string(name);
  if (id === undefined) return undefined;
  const file = context.state.files.get(id);
  if (file === undefined) fields.fail(`Invalid '${name}': file '${id}' not found.`, name);
  if (file.object.purpose !== "fine-tune") {
    fields.fail(
      `Invalid '${name}': file '${id}' has purpose '${file.object.purpose}', not 'fine-tune'.`,
      name,
    );
  }
  return id;
}

function hyperparametersOf(fields: Fields): Hyperparameters {
  const given = fields.object("hyperparameters") ?? {};
  const read = (name: keyof Hyperparameters, fallback: number, max: number, integer: boolean) => {
    const value = given[name];
    if (value === undefined || value === null || value === "auto") return fallback;
    const ok =
      typeof value === "number" &&
      value > 0 &&
      value <= max &&
      (!integer || Number.isInteger(value));
    if (!ok) fields.fail(`Invalid value for 'hyperparameters.${name}'.`, `hyperparameters.${name}`);
    return value as number;
  };
  return {
    n_epochs: read("n_epochs", 3, 50, true),
    batch_size: read("batch_size", 1, 256, true),
    learning_rate_multiplier: read("learning_rate_multiplier", 1, 10, false),
  };
}

function addEvent(job: FineTuningJobEntry, context: ResourceContext, now: number, message: string) {
  job.events.push({
    object: "fine_tuning.job.event",
    id: `ftevent-${context.newId()}`,
    created_at: seconds(now),
    level: "info",
    message,
    type: "message",
  });
}

function succeed(job: FineTuningJobEntry, context: ResourceContext, now: number): void {
  const { object } = job;
  const model = `${object.model}.ft-${object.id.replace(/^ftjob-/, "")}`;
  const trainedTokens =
    Math.max(1, Math.ceil(job.trainingBytes / 4)) * object.hyperparameters.n_epochs;
  const csv = [
    "step,train_loss,train_mean_token_accuracy,valid_loss,valid_mean_token_accuracy",
    ...CHECKPOINT_STEPS.map((step, i) => `${step},${0.5 - i * 0.15},${0.9 + i * 0.02},,`),
  ].join("\n");
  const results = addGeneratedFile(context, "results.csv", "fine-tune-results", `${csv}\n`);
  object.fine_tuned_model = model;
  object.finished_at = seconds(now);
  object.trained_tokens = trainedTokens;
  object.result_files = [results.object.id];
  job.checkpoints = CHECKPOINT_STEPS.map((step, i) => ({
    object: "fine_tuning.job.checkpoint",
    id: `ftckpt_${context.newId()}`,
    created_at: seconds(now),
    fine_tuned_model_checkpoint: `${model}:ckpt-step-${step}`,
    step_number: step,
    metrics: {
      step,
      train_loss: 0.5 - i * 0.15,
      train_mean_token_accuracy: 0.9 + i * 0.02,
      valid_loss: 0.6 - i * 0.15,
      valid_mean_token_accuracy: 0.88 + i * 0.02,
      full_valid_loss: 0.6 - i * 0.15,
      full_valid_mean_token_accuracy: 0.88 + i * 0.02,
    },
    fine_tuning_job_id: object.id,
  }));
  context.state.fineTunedModels.push({
    id: model,
    base: object.model,
    jobId: object.id,
    createdAt: seconds(now),
  });
  addEvent(job, context, now, `Training tokens billed: ${trainedTokens}`);
  addEvent(job, context, now, "Job succeeded.");
}

const EVENT_MESSAGES: Partial<Record<JobStatus, string>> = {
  running: "Job started.",
  paused: "Job paused.",
  cancelled: "Job cancelled.",
};

const createJob: ResourceHandler = (call, context) => {
  const fields = new Fields(jsonObject(call.body, "authoring"), "authoring");
  const model = fields.requiredString("model");
  if (!isFineTunable(model)) {
    fields.fail(`The base model '${model}' does not support fine-tuning.`, "model");
  }
  fields.required("training_file");
  const training = trainingFile(context, fields, "training_file") as string;
  const validation = trainingFile(context, fields, "validation_file") ?? null;
  const hyperparameters = hyperparametersOf(fields);
  const suffix = fields.string("suffix", MAX_SUFFIX) ?? null;
  const seed = fields.integer("seed", 0, 2_147_483_647);
  const metadata = fields.metadata() ?? null;
  const method = fields.object("method");

  const id = `ftjob-${context.newId()}`;
  const job: FineTuningJobEntry = {
    object: {
      object: "fine_tuning.job",
      id,
      created_at: seconds(context.now),
      model,
      training_file: training,
      validation_file: validation,
      status: "pending",
      fine_tuned_model: null,
      finished_at: null,
      error: null,
      result_files: [],
      trained_tokens: null,
      hyperparameters,
      seed: seed ?? Number.parseInt(id.slice(-6), 16) % 1_000_000,
      suffix,
      organization_id: "",
      estimated_finish: null,
      integrations: null,
      metadata,
      ...(isObject(method) ? { method } : {}),
    },
    lifecycle: new Lifecycle<JobStatus>(
      ["pending", "running", "succeeded"],
      context.now,
      context.jobDurationMs,
      (status, now) => {
        job.object.status = status;
        const message = EVENT_MESSAGES[status];
        if (message !== undefined) addEvent(job, context, now, message);
        if (status === "succeeded") succeed(job, context, now);
      },
    ),
    events: [],
    checkpoints: [],
    trainingBytes: fileOf(context, training).object.bytes,
  };
  addEvent(job, context, context.now, "Job enqueued. Waiting for jobs ahead to complete.");
  context.lifecycles.track(job.lifecycle);
  context.state.fineTuningJobs.set(id, job);
  return created(call, job.object);
};

const listJobs: ResourceHandler = (call, context) => {
  const jobs = [...context.state.fineTuningJobs.values()].map((j) => j.object);
  const { data, has_more } = paginate(jobs, (j) => j.id, call.query, JOB_LIST);
  return json({ object: "list", data, has_more });
};

const retrieveJob: ResourceHandler = (call, context) => {
  const job = jobOf(context, call.params.job_id ?? "");
  job.lifecycle.poke(context.now);
  return json(job.object);
};

function moveJob(
  call: Parameters<ResourceHandler>[0],
  context: ResourceContext,
  from: readonly JobStatus[],
  to: readonly JobStatus[],
  verb: string,
) {
  const job = jobOf(context, call.params.job_id ?? "");
  if (!from.includes(job.object.status)) {
    refuse(
      azureErrors.unexpectedEntityState(
        `Cannot ${verb} fine-tuning job '${job.object.id}' with status '${job.object.status}'.`,
      ),
    );
  }
  job.lifecycle.restart(to, context.now);
  context.lifecycles.track(job.lifecycle);
  return json(job.object);
}

const cancelJob: ResourceHandler = (call, context) =>
  moveJob(call, context, ["pending", "running", "paused"], ["cancelled"], "cancel");

const pauseJob: ResourceHandler = (call, context) =>
  moveJob(call, context, ["running"], ["paused"], "pause");

const resumeJob: ResourceHandler = (call, context) =>
  moveJob(call, context, ["paused"], ["running", "succeeded"], "resume");

const deleteJob: ResourceHandler = (call, context) => {
  const job = jobOf(context, call.params.job_id ?? "");
  if (!TERMINAL.includes(job.object.status)) {
    refuse(
      azureErrors.unexpectedEntityState(
        `Cannot delete fine-tuning job '${job.object.id}' with status '${job.object.status}': cancel it first.`,
      ),
    );
  }
  context.state.fineTuningJobs.delete(job.object.id);
  return { kind: "empty", status: 204 };
};

const jobEvents: ResourceHandler = (call, context) => {
  const job = jobOf(context, call.params.job_id ?? "");
  const { data, has_more } = paginate(job.events, (e) => e.id, call.query, HISTORY_LIST);
  return json({ object: "list", data, has_more });
};

const jobCheckpoints: ResourceHandler = (call, context) => {
  const job = jobOf(context, call.params.job_id ?? "");
  return json(paginate(job.checkpoints, (c) => c.id, call.query, HISTORY_LIST));
};

export const FINE_TUNING_HANDLERS = {
  "fineTuning.create": createJob,
  "fineTuning.list": listJobs,
  "fineTuning.retrieve": retrieveJob,
  "fineTuning.delete": deleteJob,
  "fineTuning.cancel": cancelJob,
  "fineTuning.pause": pauseJob,
  "fineTuning.resume": resumeJob,
  "fineTuning.events": jobEvents,
  "fineTuning.checkpoints": jobCheckpoints,
} satisfies Record<string, ResourceHandler>;
