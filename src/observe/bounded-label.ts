/** The label value every name beyond the bound, or not known, is counted under. */
export const OTHER = "other";

/**
 * Keeps one label's values bounded: a value is accepted while fewer than `limit` distinct values
 * have been seen, and every later new value becomes `other`. Each series costs memory in the proxy
 * and in Prometheus for as long as it lives, and label values come from clients.
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();
  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  value(raw: string): string {
    if (this.seen.has(raw)) return raw;
    if (this.seen.size >= this.limit) return OTHER;
    this.seen.add(raw);
    return raw;
  }
}
