import type { SelectionPolicy } from "./policies.ts";
import type { Target } from "./target.ts";

/** The targets that can serve one model, and the policy that chooses among them. */
export class Pool {
  readonly targets: readonly Target[];
  private readonly policy: SelectionPolicy;
  /**
   * Whether cooling targets are skipped. Pools from the configuration file are; the single
   * target of env-only configuration is not, since with nowhere else to go, holding traffic
   * back would only turn Azure's brief hiccups into longer outages of our own.
   */
  readonly gated: boolean;

  constructor(targets: readonly Target[], policy: SelectionPolicy, gated = true) {
    this.targets = targets;
    this.policy = policy;
    this.gated = gated;
  }

  /** The next target for a request: not cooling, not already tried by it. */
  pick(tried: ReadonlySet<Target>, now: number): Target | undefined {
    if (this.targets.length === 1) {
      const only = this.targets[0] as Target;
      if (tried.has(only)) return undefined;
      return this.gated && only.health.isCooling(now) ? undefined : only;
    }
    const candidates = this.targets.filter(
      (t) => !tried.has(t) && !(this.gated && t.health.isCooling(now)),
    );
    return this.policy.select(candidates);
  }

  /** Epoch ms when the first cooling target becomes available again. */
  soonestAvailable(): number {
    let soonest = Number.POSITIVE_INFINITY;
    for (const t of this.targets) soonest = Math.min(soonest, t.health.coolingUntil);
    return soonest;
  }
}
