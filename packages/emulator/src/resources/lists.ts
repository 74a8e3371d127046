/** Cursor pagination as OpenAI's list endpoints do it: `limit`, `order`, `after`, `before`. */
import { azureErrors } from "../errors.ts";
import { refuse } from "./fields.ts";

export interface ListDefaults {
  order: "asc" | "desc";
  limit: number;
  maxLimit: number;
}

/** OpenAI's defaults for assistants, threads, runs, vector stores and response items. */
export const OPENAI_LIST: ListDefaults = { order: "desc", limit: 20, maxLimit: 100 };

export interface Page<T> {
  object: "list";
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

function limitOf(raw: string | undefined, defaults: ListDefaults): number {
  if (raw === undefined) return defaults.limit;
  const limit = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(limit) || limit < 1 || limit > defaults.maxLimit) {
    refuse(
      azureErrors.invalidRequest(
        `Invalid 'limit': expected an integer from 1 to ${defaults.maxLimit}, got '${raw}'.`,
        "limit",
      ),
    );
  }
  return limit;
}

function cursorIndex(ids: readonly string[], name: "after" | "before", id: string): number {
  const index = ids.indexOf(id);
  if (index === -1) {
    refuse(azureErrors.invalidRequest(`Invalid '${name}': no object with id '${id}'.`, name));
  }
  return index;
}

/**
 * One page of `items` (given oldest first). `after`/`before` are ids of objects in the list, in
 * the requested order; an unknown cursor is refused.
 */
export function paginate<T>(
  items: readonly T[],
  idOf: (item: T) => string,
  query: Record<string, string>,
  defaults: ListDefaults,
): Page<T> {
  const limit = limitOf(query.limit, defaults);
  const order = query.order ?? defaults.order;
  if (order !== "asc" && order !== "desc") {
    refuse(
      azureErrors.invalidRequest(
        `Invalid value for 'order': expected one of asc, desc, got '${order}'.`,
        "order",
      ),
    );
  }
  let ordered = order === "asc" ? [...items] : [...items].reverse();
  const ids = () => ordered.map(idOf);
  if (query.after !== undefined)
    ordered = ordered.slice(cursorIndex(ids(), "after", query.after) + 1);
  if (query.before !== undefined) {
    const index = cursorIndex(ids(), "before", query.before);
    ordered = ordered.slice(Math.max(0, index - limit), index);
  }
  const data = ordered.slice(0, limit);
  const first = data[0];
  const last = data.at(-1);
  return {
    object: "list",
    data,
    first_id: first === undefined ? null : idOf(first),
    last_id: last === undefined ? null : idOf(last),
    has_more: ordered.length > data.length,
  };
}
