import type { IncomingHttpHeaders } from "node:http";
import type { Fault, FaultKind } from "./types.ts";

export const FAULT_KINDS: readonly FaultKind[] = [
  "429",
  "500",
  "hang",
  "reset-mid-stream",
  "content-filter",
  "slow-first-byte",
  "reset",
];

const DEFAULT_RETRY_AFTER_MS = 1000;
const DEFAULT_DELAY_MS = 2000;

/** A fault chosen for one request, with its defaults filled in. */
export interface ActiveFault {
  kind: FaultKind;
  retryAfterMs: number;
  delayMs: number;
}

function isFaultKind(value: string): value is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(value);
}

function activate(fault: Pick<Fault, "kind" | "retryAfterMs" | "delayMs">): ActiveFault {
  return {
    kind: fault.kind,
    retryAfterMs: fault.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS,
    delayMs: fault.delayMs ?? DEFAULT_DELAY_MS,
  };
}

function assertNonNegativeInteger(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
    throw new TypeError(`Fault ${name} must be a non-negative integer, got ${value}`);
  }
}

/** Faults injected through the API, consumed in order by the requests they match. */
export class FaultQueue {
  #pending: { fault: Fault; left: number }[] = [];

  add(fault: Fault): void {
    if (!isFaultKind(fault.kind)) {
      throw new TypeError(
        `Unknown fault kind "${fault.kind}"; use one of ${FAULT_KINDS.join(", ")}`,
      );
    }
    const times = fault.times ?? 1;
    if (!(Number.isInteger(times) && times >= 1)) {
      throw new TypeError(`Fault times must be a positive integer, got ${fault.times}`);
    }
    assertNonNegativeInteger("retryAfterMs", fault.retryAfterMs);
    assertNonNegativeInteger("delayMs", fault.delayMs);
    this.#pending.push({ fault: { ...fault }, left: times });
  }

  clear(): void {
    this.#pending = [];
  }

  /** Takes one use of the first fault that matches a request to this deployment. */
  take(deployment: string): ActiveFault | undefined {
    const index = this.#pending.findIndex(
      (p) => p.fault.deployment === undefined || p.fault.deployment === deployment,
    );
    const entry = this.#pending[index];
    if (entry === undefined) return undefined;
    entry.left -= 1;
    if (entry.left === 0) this.#pending.splice(index, 1);
    return activate(entry.fault);
  }
}

function singleHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads a non-negative integer from a header. Returns undefined when absent and an error
 * message when malformed, so a typo in a test header fails loudly instead of being ignored.
 */
export function integerHeader(
  headers: IncomingHttpHeaders,
  name: string,
): { value?: number; error?: string } {
  const raw = singleHeader(headers, name);
  if (raw === undefined) return {};
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(value) || value < 0) {
    return { error: `Header ${name} must be a non-negative integer, got "${raw}"` };
  }
  return { value };
}

/** The fault a request asks for with `x-emulator-fault` (and its tuning headers), if any. */
export function faultFromHeaders(headers: IncomingHttpHeaders): {
  fault?: ActiveFault;
  error?: string;
} {
  const kind = singleHeader(headers, "x-emulator-fault");
  if (kind === undefined) return {};
  if (!isFaultKind(kind)) {
    return {
      error: `Header x-emulator-fault must be one of ${FAULT_KINDS.join(", ")}, got "${kind}"`,
    };
  }
  const retryAfter = integerHeader(headers, "x-emulator-retry-after-ms");
  const delay = integerHeader(headers, "x-emulator-delay-ms");
  const error = retryAfter.error ?? delay.error;
  if (error !== undefined) return { error };
  return { fault: activate({ kind, retryAfterMs: retryAfter.value, delayMs: delay.value }) };
}
