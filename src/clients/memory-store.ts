import type { ClientLimits } from "../config/clients.ts";
import { chargedTokens } from "./charged-tokens.ts";
import { admits, dayOf, minuteOf, type WindowCounts } from "./limit-decision.ts";
import {
  type LimitsStore,
  minuteStart,
  rowFromKey,
  rowKey,
  sortRows,
  USAGE_FIELDS,
  type UsageCharge,
  type UsageField,
  type UsageReport,
  usageIncrements,
} from "./limits-store.ts";

type Row = Record<UsageField, number>;

/**
 * Client counters in this process: the default, exact for one process. Windows older than the
 * previous minute and days before today are dropped as time moves on, so memory stays bounded
 * by the number of clients and rows in use.
 */
export class MemoryLimitsStore implements LimitsStore {
  readonly remote: boolean = false;
  /** Client -> minute -> [requests, tokens]. */
  private readonly minutes = new Map<string, Map<number, [number, number]>>();
  /** Client -> tokens today. */
  private readonly days = new Map<string, number>();
  private day = "";
  private minute = 0;
  private readonly rowsToday = new Map<string, Row>();
  private readonly rowsThisMinute = new Map<string, Row>();

  async admit(client: string, limits: ClientLimits, now: number): Promise<WindowCounts> {
    this.advance(now);
    const minute = minuteOf(now);
    const windows = this.windowsOf(client);
    const previous = windows.get(minute - 1) ?? [0, 0];
    const current = windows.get(minute) ?? [0, 0];
    const counts: WindowCounts = {
      requests: [previous[0], current[0]],
      tokens: [previous[1], current[1]],
      dayTokens: this.days.get(client) ?? 0,
    };
    if (admits(counts, limits, now)) windows.set(minute, [current[0] + 1, current[1]]);
    return counts;
  }

  async charge(charge: UsageCharge, now: number): Promise<void> {
    this.advance(now);
    const tokens = charge.tokens === undefined ? 0 : chargedTokens(charge.tokens);
    if (tokens > 0) {
      const minute = minuteOf(now);
      const windows = this.windowsOf(charge.client);
      const current = windows.get(minute) ?? [0, 0];
      windows.set(minute, [current[0], current[1] + tokens]);
      this.days.set(charge.client, (this.days.get(charge.client) ?? 0) + tokens);
    }
    const key = rowKey(charge.client, charge.model, charge.deployment);
    const increments = usageIncrements(charge);
    for (const rows of [this.rowsToday, this.rowsThisMinute]) {
      const row = rows.get(key) ?? {
        requests: 0,
        prompt: 0,
        completion: 0,
        reasoning: 0,
        cached: 0,
      };
      for (const field of USAGE_FIELDS) row[field] += increments[field];
      rows.set(key, row);
    }
  }

  async usage(now: number): Promise<UsageReport> {
    this.advance(now);
    const rows = (from: Map<string, Row>) =>
      sortRows([...from].map(([key, counts]) => rowFromKey(key, counts)));
    return {
      today: { date: this.day, rows: rows(this.rowsToday) },
      minute: { start: minuteStart(this.minute), rows: rows(this.rowsThisMinute) },
    };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}

  private windowsOf(client: string): Map<number, [number, number]> {
    let windows = this.minutes.get(client);
    if (windows === undefined) {
      windows = new Map();
      this.minutes.set(client, windows);
    }
    return windows;
  }

  /** Forgets what has left every window. A day only turns with a minute. */
  private advance(now: number): void {
    const minute = minuteOf(now);
    if (minute === this.minute) return;
    this.minute = minute;
    this.rowsThisMinute.clear();
    for (const windows of this.minutes.values()) {
      for (const old of windows.keys()) if (old < minute - 1) windows.delete(old);
    }
    const day = dayOf(now);
    if (day !== this.day) {
      this.day = day;
      this.days.clear();
      this.rowsToday.clear();
    }
  }
}
