import type { IncomingMessage } from "node:http";

/** How a request reached the pipeline in forward mode: inside a CONNECT tunnel, or absolute-form. */
export type ForwardedVia = "connect" | "absolute-form";

const marks = new WeakMap<IncomingMessage, ForwardedVia>();

/** Marks a request the forward proxy hands to the pipeline. */
export function markForwarded(request: IncomingMessage, via: ForwardedVia): void {
  marks.set(request, via);
}

/** `connect`, `absolute-form`, or undefined for a request sent to the proxy directly. */
export function forwardedVia(request: IncomingMessage): ForwardedVia | undefined {
  return marks.get(request);
}
