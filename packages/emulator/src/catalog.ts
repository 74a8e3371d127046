import type { InferenceOp } from "./operations.ts";
import type { EmulatorDeployment } from "./types.ts";

export const DEFAULT_DEPLOYMENTS: EmulatorDeployment[] = [
  { id: "gpt-4o", model: "gpt-4o" },
  { id: "gpt-4o-mini", model: "gpt-4o-mini" },
  { id: "gpt-35-turbo", model: "gpt-35-turbo" },
  { id: "gpt-35-turbo-instruct", model: "gpt-35-turbo-instruct" },
  { id: "text-embedding-3-small-1", model: "text-embedding-3-small" },
  { id: "text-embedding-ada-002", model: "text-embedding-ada-002" },
  { id: "dall-e-3", model: "dall-e-3" },
  { id: "gpt-image-1", model: "gpt-image-1" },
  { id: "whisper", model: "whisper" },
  { id: "tts", model: "tts" },
  { id: "tts-hd", model: "tts-hd" },
  { id: "gpt-4o-realtime-preview", model: "gpt-4o-realtime-preview" },
];

/**
 * How a model is served beyond its operations, as Azure serves it in 2026:
 * - `responses-only`: codex, the -pro models, computer-use, deep research: chat is refused with
 *   OperationNotSupported, the Responses API works;
 * - `reasoning`: o-series and gpt-5: chat refuses `max_tokens` and non-default sampling values;
 * - `anthropic`: Claude, only at `/anthropic/v1/messages`;
 * - `foundry`: DeepSeek, Llama, Mistral, grok, Phi, gpt-oss: only through `/openai/v1/...`;
 * - `chat`: everything else.
 */
export type ServingFamily = "chat" | "responses-only" | "reasoning" | "anthropic" | "foundry";

const RESPONSES_ONLY =
  /codex|^gpt-5(\.\d+)?-pro($|-)|^o1-pro($|-)|^o3-pro($|-)|^computer-use-preview|deep-research/i;

const SERVING_FAMILIES: readonly { pattern: RegExp; family: ServingFamily }[] = [
  { pattern: /^gpt-5(\.\d+)?-chat/i, family: "chat" },
  { pattern: RESPONSES_ONLY, family: "responses-only" },
  { pattern: /^claude-/i, family: "anthropic" },
  { pattern: /^o\d|^gpt-5/i, family: "reasoning" },
  { pattern: /deepseek|llama|mistral|ministral|codestral|grok|^phi-|^gpt-oss/i, family: "foundry" },
];

export function servingFamilyOf(model: string): ServingFamily {
  return SERVING_FAMILIES.find((f) => f.pattern.test(model))?.family ?? "chat";
}

/** Whether the Responses API answers with this model: chat models and Responses-only ones. */
export function servesResponses(model: string): boolean {
  return (
    servingFamilyOf(model) === "responses-only" || operationsOf(model).includes("chat/completions")
  );
}

interface ModelFamily {
  pattern: RegExp;
  ops: readonly InferenceOp[];
}

/**
 * What each family of models can do, first match wins. Azure refuses an operation the model
 * cannot serve (e.g. chat on an embedding model), so a proxy that routes to the wrong
 * deployment fails here as it would in production. Unknown names are treated as chat models.
 */
const MODEL_FAMILIES: readonly ModelFamily[] = [
  // Served by the Responses API only (see servesResponses); Claude only by Anthropic's API.
  { pattern: RESPONSES_ONLY, ops: [] },
  { pattern: /^claude-/i, ops: [] },
  { pattern: /embedding/, ops: ["embeddings"] },
  { pattern: /instruct|davinci|babbage/, ops: ["completions"] },
  { pattern: /dall-e|gpt-image/, ops: ["images/generations", "images/edits"] },
  { pattern: /whisper|transcribe/, ops: ["audio/transcriptions", "audio/translations"] },
  { pattern: /tts/, ops: ["audio/speech"] },
  { pattern: /.*/, ops: ["chat/completions"] },
];

export function operationsOf(model: string): readonly InferenceOp[] {
  const family = MODEL_FAMILIES.find((f) => f.pattern.test(model));
  return family?.ops ?? [];
}

/** Base models Azure can fine-tune (dated versions included). */
const FINE_TUNABLE =
  /^(gpt-35-turbo(-\d{4})?|gpt-4o(-mini)?(-\d{4}-\d{2}-\d{2})?|gpt-4\.1(-mini|-nano)?(-\d{4}-\d{2}-\d{2})?|babbage-002|davinci-002)$/;

export function isFineTunable(model: string): boolean {
  return FINE_TUNABLE.test(model);
}

/** A model made by a fine-tuning job of the emulated resource. */
export interface FineTunedModel {
  id: string;
  base: string;
  jobId: string;
  createdAt: number;
}

// Fixed timestamps keep listings deterministic.
const CREATED_AT = 1_717_200_000; // 2024-06-01
const INFERENCE_DEPRECATION = 1_893_456_000; // 2030-01-01
const FINE_TUNE_DEPRECATION = 1_861_920_000; // 2029-01-01

/** A deployment in the authoring API's shape (authoring-2022-12-01 `Deployment`). */
export function deploymentObject(deployment: EmulatorDeployment) {
  return {
    id: deployment.id,
    model: deployment.model,
    owner: "organization-owner",
    object: "deployment",
    status: "succeeded",
    created_at: CREATED_AT,
    updated_at: CREATED_AT,
    scale_settings: { scale_type: "standard" },
  };
}

/** A base model in the authoring API's shape (authoring-2024-10-21 `Model`). */
export function modelObject(model: string) {
  const ops = operationsOf(model);
  const fineTune = isFineTunable(model);
  return {
    id: model,
    object: "model",
    status: "succeeded",
    created_at: CREATED_AT,
    capabilities: {
      chat_completion: ops.includes("chat/completions"),
      completion: ops.includes("completions"),
      embeddings: ops.includes("embeddings"),
      fine_tune: fineTune,
      inference: true,
      scale_types: ["standard"],
    },
    lifecycle_status: "generally-available",
    deprecation: fineTune
      ? { fine_tune: FINE_TUNE_DEPRECATION, inference: INFERENCE_DEPRECATION }
      : { inference: INFERENCE_DEPRECATION },
  };
}

/** A fine-tuned model in the authoring API's shape: `model` is its base, `fine_tune` its job. */
export function fineTunedModelObject(model: FineTunedModel) {
  const ops = operationsOf(model.base);
  return {
    id: model.id,
    object: "model",
    status: "succeeded",
    created_at: model.createdAt,
    model: model.base,
    fine_tune: model.jobId,
    capabilities: {
      chat_completion: ops.includes("chat/completions"),
      completion: ops.includes("completions"),
      embeddings: false,
      fine_tune: false,
      inference: true,
      scale_types: ["standard"],
    },
    lifecycle_status: "generally-available",
    deprecation: { inference: INFERENCE_DEPRECATION },
  };
}

/** The distinct underlying models of a deployment list, in first-seen order. */
export function modelsOf(deployments: readonly EmulatorDeployment[]): string[] {
  return [...new Set(deployments.map((d) => d.model))];
}
