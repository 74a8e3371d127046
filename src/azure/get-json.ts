import type { Agent } from "undici";
import type { UpstreamCredential } from "./request.ts";

/** A small JSON GET to Azure, for answers the proxy builds itself (model lists, capabilities). */
export async function getAzureJson(
  agent: Agent,
  url: string,
  credential: UpstreamCredential,
  timeoutMs: number,
): Promise<{
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
}> {
  const target = new URL(url);
  const response = await agent.request({
    origin: target.origin,
    path: `${target.pathname}${target.search}`,
    method: "GET",
    headers: { [credential.header]: credential.value, accept: "application/json" },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = Buffer.from(await response.body.arrayBuffer());
  return { status: response.statusCode, body, headers: response.headers };
}
