/** The inference operations of a deployment, as path suffixes after `/deployments/{id}/` or `/v1/`. */
export type InferenceOp =
  | "chat/completions"
  | "completions"
  | "embeddings"
  | "images/generations"
  | "images/edits"
  | "audio/speech"
  | "audio/transcriptions"
  | "audio/translations";

export interface OperationSpec {
  /** Azure's operationId, quoted in 429 messages. */
  azureOperationId: string;
  /** Azure's name for the operation in "OperationNotSupported" messages. */
  azureName: string;
  /** How the request body is encoded. */
  body: "json" | "multipart";
}

export const INFERENCE_OPERATIONS = {
  "chat/completions": {
    azureOperationId: "ChatCompletions_Create",
    azureName: "chatCompletion",
    body: "json",
  },
  completions: { azureOperationId: "Completions_Create", azureName: "completion", body: "json" },
  embeddings: { azureOperationId: "Embeddings_Create", azureName: "embeddings", body: "json" },
  "images/generations": {
    azureOperationId: "ImageGenerations_Create",
    azureName: "imageGeneration",
    body: "json",
  },
  "images/edits": {
    azureOperationId: "ImageGenerations_Edit",
    azureName: "imageEdit",
    body: "multipart",
  },
  "audio/speech": { azureOperationId: "Speech_Create", azureName: "speech", body: "json" },
  "audio/transcriptions": {
    azureOperationId: "Transcriptions_Create",
    azureName: "transcription",
    body: "multipart",
  },
  "audio/translations": {
    azureOperationId: "Translations_Create",
    azureName: "translation",
    body: "multipart",
  },
} as const satisfies Record<InferenceOp, OperationSpec>;

export function isInferenceOp(value: string): value is InferenceOp {
  return Object.hasOwn(INFERENCE_OPERATIONS, value);
}
