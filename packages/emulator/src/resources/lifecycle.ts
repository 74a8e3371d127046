/**
 * A status that moves through fixed steps on its own: all of them within `durationMs` of its start
 * (evenly spaced), and one more step each time the object is retrieved (`poke`). Timer-free: the
 * store ticks every live lifecycle at the start of each request, so nothing runs between requests
 * and closing the emulator leaves nothing behind.
 */
export class Lifecycle<S extends string = string> {
  #steps: readonly S[];
  #index = 0;
  #startedAt: number;
  #frozen = false;
  readonly #durationMs: number;
  readonly #onEnter: (status: S, now: number) => void;

  /** `onEnter` runs for every step entered after the first (and for the first of a restart). */
  constructor(
    steps: readonly S[],
    now: number,
    durationMs: number,
    onEnter: (status: S, now: number) => void = () => {},
  ) {
    if (steps.length === 0) throw new TypeError("A lifecycle needs at least one step");
    this.#steps = steps;
    this.#startedAt = now;
    this.#durationMs = durationMs;
    this.#onEnter = onEnter;
  }

  get status(): S {
    return this.#steps[this.#index] as S;
  }

  /** At its last step (or stopped): time and retrieves no longer move it. */
  get settled(): boolean {
    return this.#frozen || this.#index === this.#steps.length - 1;
  }

  /** Enters every step whose time has come. */
  tick(now: number): void {
    if (this.settled) return;
    const last = this.#steps.length - 1;
    const elapsed = now - this.#startedAt;
    const due =
      this.#durationMs <= 0
        ? last
        : Math.min(last, Math.floor((elapsed / this.#durationMs) * last));
    while (this.#index < due) this.#enter(this.#index + 1, now);
  }

  /** A retrieve: catch up with time, then one step more. */
  poke(now: number): void {
    this.tick(now);
    if (!this.settled) this.#enter(this.#index + 1, now);
  }

  /** Runs straight to the last step (streamed runs, which are answered whole). */
  finish(now: number): void {
    while (!this.settled) this.#enter(this.#index + 1, now);
  }

  /** Stops where it is (paused, cancelled, failed). */
  freeze(): void {
    this.#frozen = true;
  }

  /** Starts again with new steps, entering the first one now. */
  restart(steps: readonly S[], now: number): void {
    if (steps.length === 0) throw new TypeError("A lifecycle needs at least one step");
    this.#steps = steps;
    this.#startedAt = now;
    this.#frozen = false;
    this.#enter(0, now);
  }

  #enter(index: number, now: number): void {
    this.#index = index;
    this.#onEnter(this.status, now);
  }
}

/** Every lifecycle still moving, ticked together before each request is answered. */
export class Lifecycles {
  readonly #live = new Set<Lifecycle>();

  track<S extends string>(lifecycle: Lifecycle<S>): Lifecycle<S> {
    this.#live.add(lifecycle as unknown as Lifecycle);
    return lifecycle;
  }

  tick(now: number): void {
    for (const lifecycle of this.#live) {
      lifecycle.tick(now);
      if (lifecycle.settled) this.#live.delete(lifecycle);
    }
  }
}
