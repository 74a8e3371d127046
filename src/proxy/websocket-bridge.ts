import type { Duplex } from "node:stream";
import type { RawData, WebSocket } from "ws";

/** Past this many bytes queued toward one side, the other side is no longer read. */
const HIGH_WATER = 1024 * 1024;

export interface BridgeResult {
  /** Who closed first, and how. */
  readonly closedBy: "client" | "azure";
  readonly code: number;
  readonly reason: string;
}

/**
 * Relays messages both ways, in order, text as text and binary as binary. When one side falls
 * behind, the other side's socket is paused until the queue drains (backpressure). Either side
 * closing closes the other with the same code and reason.
 */
export interface EarlyEvents {
  /** What Azure sent before the bridge was up, in order. */
  readonly messages: readonly { data: RawData; isBinary: boolean }[];
  /** Azure's close, if it closed that early. */
  readonly closed: { code: number; reason: Buffer } | undefined;
}

export function bridgeWebSockets(
  client: WebSocket,
  azure: WebSocket,
  early: EarlyEvents = { messages: [], closed: undefined },
): Promise<BridgeResult> {
  for (const { data, isBinary } of early.messages) client.send(data, { binary: isBinary });
  if (early.closed) {
    const { code, reason } = early.closed;
    closeWith(client, code, reason);
    return Promise.resolve({ closedBy: "azure", code, reason: reason.toString("utf8") });
  }
  return new Promise((resolve) => {
    let result: BridgeResult | undefined;
    // A message over maxPayload ends that side with an error and an abnormal close (1006); the
    // other side is told why instead: 1009, message too big.
    const oversized = new Set<WebSocket>();
    const finish = (closedBy: BridgeResult["closedBy"], code: number, reason: Buffer) => {
      if (oversized.has(closedBy === "client" ? client : azure)) {
        code = 1009;
        reason = Buffer.from("message too big");
      }
      result ??= { closedBy, code, reason: reason.toString("utf8") };
      const other = closedBy === "client" ? azure : client;
      closeWith(other, code, reason);
    };
    relay(client, azure);
    relay(azure, client);
    client.once("close", (code, reason) => finish("client", code, reason));
    azure.once("close", (code, reason) => finish("azure", code, reason));
    // An error is followed by a close event; the socket's own error needs no more handling.
    for (const socket of [client, azure]) {
      socket.on("error", (error: Error & { code?: string }) => {
        if (error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") oversized.add(socket);
        socket.terminate();
      });
    }
    let closed = 0;
    const done = () => {
      closed += 1;
      if (closed === 2 && result) resolve(result);
    };
    client.once("close", done);
    azure.once("close", done);
  });
}

function relay(from: WebSocket, to: WebSocket): void {
  const source = (from as unknown as { _socket?: Duplex })._socket;
  let paused = false;
  from.on("message", (data: RawData, isBinary: boolean) => {
    if (to.readyState !== to.OPEN) return;
    to.send(data, { binary: isBinary }, () => {
      if (paused && to.bufferedAmount < HIGH_WATER / 2) {
        paused = false;
        source?.resume();
      }
    });
    if (!paused && to.bufferedAmount > HIGH_WATER) {
      paused = true;
      source?.pause();
    }
  });
}

/** Closes with the peer's code where the protocol lets us send it; 1005/1006/1015 cannot be sent. */
function closeWith(socket: WebSocket, code: number, reason: Buffer): void {
  if (socket.readyState === socket.CLOSED || socket.readyState === socket.CLOSING) return;
  const sendable =
    (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) ||
    (code >= 3000 && code <= 4999);
  if (code === 1005) socket.close();
  else if (sendable) socket.close(code, reason.subarray(0, 123));
  else socket.close(1011, "the other side closed abnormally");
}
