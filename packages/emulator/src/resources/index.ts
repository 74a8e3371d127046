/** One handler per resource-scoped operation; Azure errors thrown by handlers become replies. */
import type { ResourceCall } from "../dispatch.ts";
import { errorReply } from "../reply.ts";
import { ASSISTANT_HANDLERS } from "./assistants.ts";
import { BATCH_HANDLERS } from "./batches.ts";
import type { ResourceAnswer, ResourceContext, ResourceHandler } from "./context.ts";
import { Refusal } from "./fields.ts";
import { FILE_HANDLERS } from "./files.ts";
import { FINE_TUNING_HANDLERS } from "./fine-tuning.ts";
import { RESPONSE_HANDLERS } from "./responses.ts";
import type { ResourceOp } from "./routes.ts";
import { RUN_HANDLERS } from "./runs.ts";
import { VECTOR_STORE_HANDLERS } from "./vector-stores.ts";

export type { ModelCall, ResourceAnswer, ResourceContext, ResourceEnv } from "./context.ts";
export { emptyState } from "./context.ts";
export { FileStore } from "./file-store.ts";
export { Lifecycles } from "./lifecycle.ts";
export { KEEPS_FILE_FIELD, type ResourceOp } from "./routes.ts";

const HANDLERS: Record<ResourceOp, ResourceHandler> = {
  ...FILE_HANDLERS,
  ...FINE_TUNING_HANDLERS,
  ...BATCH_HANDLERS,
  ...RESPONSE_HANDLERS,
  ...ASSISTANT_HANDLERS,
  ...RUN_HANDLERS,
  ...VECTOR_STORE_HANDLERS,
};

/**
 * Answers a resource request: first every asynchronous object catches up with the clock, then the
 * operation's handler runs against the emulator's state.
 */
export async function answerResource(
  call: ResourceCall,
  context: ResourceContext,
): Promise<ResourceAnswer> {
  context.lifecycles.tick(context.now);
  try {
    return await HANDLERS[call.op](call, context);
  } catch (error) {
    if (error instanceof Refusal) return errorReply(error.error);
    throw error;
  }
}
