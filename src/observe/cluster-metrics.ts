import cluster from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";

const ASK = "azure-oai-proxy:metrics";
const ANSWER = "azure-oai-proxy:metrics-answer";
const TIMEOUT_MS = 10_000;

interface Answer {
  type: typeof ANSWER;
  id: number;
  text?: string;
  error?: string;
}

/**
 * In the primary of a worker pool: answers a worker's scrape with every worker's metrics added
 * up (prom-client's cluster aggregation), since a scrape of the shared port reaches one worker.
 */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on("message", (worker, message: { type?: string; id?: number }) => {
    if (message?.type !== ASK) return;
    const reply = (answer: Omit<Answer, "type" | "id">) => {
      if (worker.isConnected()) worker.send({ type: ANSWER, id: message.id, ...answer });
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (error: Error) => reply({ error: error.message }),
    );
  });
}

/**
 * In a worker: lets the primary read this registry, and returns a scrape that asks the primary
 * for the whole pool's metrics.
 */
export function clusterScrape(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one installs the worker's answer to the primary's collection requests.
  new AggregatorRegistry();
  const pending = new Map<number, (answer: Answer) => void>();
  let next = 0;
  process.on("message", (message: Answer) => {
    if (message?.type === ANSWER) pending.get(message.id)?.(message);
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error("the primary process did not answer with the pool's metrics"));
      }, TIMEOUT_MS);
      pending.set(id, (answer) => {
        pending.delete(id);
        clearTimeout(timer);
        if (answer.text !== undefined) resolve(answer.text);
        else reject(new Error(answer.error ?? "no metrics"));
      });
      process.send?.({ type: ASK, id });
    });
}
