/**
 * A legacy serverless endpoint (`https://{name}.{region}.models.ai.azure.com`): one model,
 * OpenAI-shaped paths without `/openai`, the key as `Authorization: Bearer`. The emulator serves
 * its chat route beside the resource's routes.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { CredentialCheck } from "./auth.ts";
import type { ReceivedBody } from "./body.ts";
import type { InferenceCall } from "./dispatch.ts";
import { azureErrors } from "./errors.ts";
import { errorReply, type Reply } from "./reply.ts";

export const SERVERLESS_CHAT_PATHS: ReadonlySet<string> = new Set([
  "/v1/chat/completions",
  "/chat/completions",
]);

export function checkServerlessRequest(
  headers: IncomingHttpHeaders,
  body: ReceivedBody,
  model: string,
  credentials: CredentialCheck,
): { kind: "reply"; reply: Reply } | { kind: "call"; call: InferenceCall } {
  const token = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? "")?.[1]?.trim();
  const accepted =
    token !== undefined &&
    (credentials.isEntraToken(token) || (!credentials.keyless && credentials.isKey(token)));
  if (!accepted) {
    return { kind: "reply", reply: errorReply(azureErrors.accessDenied()) };
  }
  if (body.jsonError !== undefined || typeof body.json !== "object" || body.json === null) {
    return {
      kind: "reply",
      reply: errorReply(azureErrors.badRequest("The request body must be a JSON object.")),
    };
  }
  const json = body.json as Record<string, unknown>;
  return {
    kind: "call",
    call: { op: "chat/completions", deployment: { id: model, model }, apiVersion: "v1", json },
  };
}
