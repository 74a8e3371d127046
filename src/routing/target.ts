import type { ResourceConfig, TargetApi } from "../config/topology.ts";
import type { TargetHealth } from "./health.ts";

/** A deployment on a resource: where one attempt of a request goes. */
export interface Target {
  /** `resource/deployment`, for logs and the opt-in response header. */
  readonly id: string;
  readonly resource: ResourceConfig;
  /** Undefined for resource-scoped operations, which address no deployment. */
  readonly deployment: string | undefined;
  readonly priority: number;
  readonly weight: number;
  readonly health: TargetHealth;
  /** The configuration's `api:` for this target, overriding the model family table. */
  readonly api?: TargetApi;
}
