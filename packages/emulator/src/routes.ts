import { type InferenceOp, isInferenceOp } from "./operations.ts";
import { matchResourceRoute, type ResourceOp } from "./resources/routes.ts";
import type { RequestStyle } from "./types.ts";

export type ApiStyle = Exclude<RequestStyle, "other">;

/** What a request addresses, decided from its method and path alone. */
export type Route =
  | { kind: "inference"; style: "dated"; op: InferenceOp; deployment: string }
  | { kind: "inference"; style: "v1"; op: InferenceOp }
  | { kind: "list-deployments"; style: "dated" }
  | { kind: "get-deployment"; style: "dated"; id: string }
  | { kind: "list-models"; style: ApiStyle }
  | { kind: "get-model"; style: ApiStyle; id: string }
  /** Files, uploads, fine-tuning, batches, responses, assistants, threads, vector stores. */
  | { kind: "resource"; style: ApiStyle; op: ResourceOp; params: Record<string, string> };

/** The style a path belongs to, for recording; independent of whether the route exists. */
export function requestStyle(path: string): RequestStyle {
  if (path === "/openai/v1" || path.startsWith("/openai/v1/")) return "v1";
  if (path.startsWith("/openai/")) return "dated";
  return "other";
}

function decodeSegment(segment: string): string | undefined {
  try {
    const decoded = decodeURIComponent(segment);
    return decoded === "" ? undefined : decoded;
  } catch {
    return undefined;
  }
}

/** Matches a request to a route, or undefined for Azure's "Resource not found". */
export function matchRoute(method: string, path: string): Route | undefined {
  if (!path.startsWith("/openai/")) return undefined;
  const segments = path.slice("/openai/".length).split("/");
  const [first, second, ...rest] = segments;
  const tail = rest.join("/");

  if (first === "v1") {
    if (second === "models") {
      if (method !== "GET") return undefined;
      if (rest.length === 0) return { kind: "list-models", style: "v1" };
      const id = rest.length === 1 ? decodeSegment(tail) : undefined;
      return id === undefined ? undefined : { kind: "get-model", style: "v1", id };
    }
    const op = segments.slice(1).join("/");
    if (method === "POST" && isInferenceOp(op)) return { kind: "inference", style: "v1", op };
    const resource = matchResourceRoute(method, segments.slice(1));
    return resource === undefined ? undefined : { kind: "resource", style: "v1", ...resource };
  }

  if (first === "deployments") {
    if (second === undefined) {
      return method === "GET" ? { kind: "list-deployments", style: "dated" } : undefined;
    }
    const deployment = decodeSegment(second);
    if (deployment === undefined) return undefined;
    if (rest.length === 0) {
      return method === "GET"
        ? { kind: "get-deployment", style: "dated", id: deployment }
        : undefined;
    }
    return method === "POST" && isInferenceOp(tail)
      ? { kind: "inference", style: "dated", op: tail, deployment }
      : undefined;
  }

  if (first === "models" && method === "GET") {
    if (second === undefined) return { kind: "list-models", style: "dated" };
    const id = rest.length === 0 ? decodeSegment(second) : undefined;
    return id === undefined ? undefined : { kind: "get-model", style: "dated", id };
  }

  const resource = matchResourceRoute(method, segments);
  return resource === undefined ? undefined : { kind: "resource", style: "dated", ...resource };
}
