import type { LimitsStore } from "./limits-store.ts";
import { MemoryLimitsStore } from "./memory-store.ts";

/**
 * The store for client counters: this process's memory, or Redis when
 * AZURE_OPENAI_PROXY_REDIS_URL is set (ioredis is loaded only then).
 */
export async function openLimitsStore(redisUrl: string | undefined): Promise<LimitsStore> {
  if (redisUrl === undefined) return new MemoryLimitsStore();
  const { RedisLimitsStore } = await import("./redis-store.ts");
  return await RedisLimitsStore.connect(redisUrl);
}
