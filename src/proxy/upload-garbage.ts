import v8 from "node:v8";
import { runInNewContext } from "node:vm";

/** Bytes streamed between two young-generation collections. */
const EVERY_BYTES = 16 * 1024 * 1024;

type Collect = (options: { type: "minor"; execution: "sync" | "async" }) => void;

let collect: Collect | undefined | null;

/**
 * V8 frees the socket-read buffers of a streamed upload only when it collects their small
 * wrappers, which it does rarely; meanwhile each 64 KB read stays resident, and a 200 MB upload
 * grew the process by ~70 MB (npm run bench, big bodies). A young-generation collection every
 * 16 MB streamed (about a millisecond each) keeps that bounded. Null when V8 refuses the flag.
 */
function collector(): Collect | null {
  if (collect !== undefined) return collect;
  try {
    v8.setFlagsFromString("--expose-gc");
    collect = runInNewContext("gc") as Collect;
  } catch {
    collect = null;
  }
  return collect;
}

/** Counts streamed bytes and collects the young generation every 16 MB. */
export function uploadGarbageCollector(): (chunk: Buffer) => void {
  let since = 0;
  return (chunk) => {
    since += chunk.length;
    if (since < EVERY_BYTES) return;
    since = 0;
    collector()?.({ type: "minor", execution: "async" });
  };
}
