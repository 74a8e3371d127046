import type { RouteTable } from "../routing/route-table.ts";
import type { Target } from "../routing/target.ts";

/** What the status page and the metrics read about one target's health. */
export interface TargetView {
  /** `resource/deployment`, as in the request record's attempts. */
  readonly id: string;
  readonly resource: string;
  readonly deployment: string | undefined;
  /** Epoch ms until which the target is skipped; in the past while it serves. */
  readonly coolingUntil: number;
  /** Failures in a row. */
  readonly failures: number;
}

/** The targets of the route table in force, read when a page or a scrape asks. */
export interface TargetSource {
  /** Configured model names with their pools' targets. */
  pools(): Iterable<{ readonly model: string; readonly targets: readonly TargetView[] }>;
  /** Every target known, configured or fallback. */
  all(): Iterable<TargetView>;
}

/**
 * Reads targets from the current route table. Takes a getter since a configuration reload
 * replaces the table; health outlives it, so a reloaded table shows the same cooling state.
 */
export function routeTableTargets(table: () => RouteTable): TargetSource {
  return {
    *pools() {
      const current = table();
      for (const model of current.configuredNames()) {
        const pool = current.configured(model);
        if (pool !== undefined) yield { model, targets: pool.targets.map(viewOf) };
      }
    },
    *all() {
      for (const target of table().targets()) yield viewOf(target);
    },
  };
}

function viewOf(target: Target): TargetView {
  return {
    id: target.id,
    resource: target.resource.name,
    deployment: target.deployment,
    coolingUntil: target.health.coolingUntil,
    failures: target.health.failures,
  };
}

/** The metrics' view: available unless cooling now. */
export function availabilityOf(source: TargetSource, now: () => number = Date.now) {
  return function* () {
    const at = now();
    for (const t of source.all()) {
      yield { resource: t.resource, deployment: t.deployment, available: t.coolingUntil <= at };
    }
  };
}
