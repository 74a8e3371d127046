/**
 * A bare HTTP/1.1 client on a net.Socket, for measurements that need to see network reads:
 * each socket `data` event is one read, handed over (de-chunked) with its arrival time, so a
 * stream observer can tell whether one read carried two SSE events (coalescing). Keep-alive,
 * one request at a time per connection.
 */
import { connect, type Socket } from "node:net";

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The connection must not be reused (server said close, or the socket ended). */
  readonly closed: boolean;
}

/** Receives the body bytes of one network read (possibly none) and the read's time. */
export type OnRead = (body: Buffer | undefined, at: number) => void;

const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");

type State = "head" | "length" | "size" | "data" | "data-crlf" | "trailer" | "done";

export class RawConnection {
  private socket: Socket | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private state: State = "done";
  private remaining = 0;
  private response: { status: number; headers: Record<string, string> } | undefined;
  private onRead: OnRead | undefined;
  private settle: ((error: Error | undefined) => void) | undefined;
  private broken = false;

  readonly host: string;
  readonly port: number;

  constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
  }

  get usable(): boolean {
    return this.socket !== undefined && !this.broken && !this.socket.destroyed;
  }

  connect(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error("connect timeout"));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        this.socket = socket;
        this.broken = false;
        resolve();
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        this.broken = true;
        this.settle?.(error);
        reject(error);
      });
      socket.once("close", () => {
        this.broken = true;
        this.settle?.(new Error("connection closed"));
      });
      socket.on("data", (chunk: Buffer) => this.read(chunk));
    });
  }

  close(): void {
    this.socket?.destroy();
    this.broken = true;
  }

  /**
   * Sends `head` (request line and headers, ending in a blank line) and then `body`; resolves
   * when the whole response has arrived. `onRead` sees every read of the response body.
   */
  request(
    head: Buffer,
    body: Buffer | AsyncIterable<Buffer> | undefined,
    onRead: OnRead | undefined,
    timeoutMs: number,
  ): Promise<RawResponse> {
    const socket = this.socket;
    if (socket === undefined || !this.usable) return Promise.reject(new Error("not connected"));
    this.buffer = Buffer.alloc(0);
    this.state = "head";
    this.response = undefined;
    this.onRead = onRead;
    return new Promise<RawResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.broken = true;
        socket.destroy();
        finish(new Error(`response timeout after ${timeoutMs} ms`));
      }, timeoutMs);
      const finish = (error: Error | undefined) => {
        if (this.settle === undefined) return;
        this.settle = undefined;
        clearTimeout(timer);
        if (error !== undefined || this.response === undefined) {
          this.broken = true;
          reject(error ?? new Error("no response"));
          return;
        }
        const closed = this.response.headers.connection?.toLowerCase() === "close";
        if (closed) this.close();
        resolve({ status: this.response.status, headers: this.response.headers, closed });
      };
      this.settle = finish;
      if (body === undefined || Buffer.isBuffer(body)) {
        socket.write(body === undefined ? head : Buffer.concat([head, body]));
      } else {
        socket.write(head);
        void (async () => {
          try {
            for await (const chunk of body) {
              if (this.settle === undefined || socket.destroyed) return;
              if (!socket.write(chunk)) {
                await new Promise<void>((r) => {
                  const done = () => {
                    socket.off("drain", done);
                    socket.off("close", done);
                    r();
                  };
                  socket.once("drain", done);
                  socket.once("close", done);
                });
              }
            }
          } catch (error) {
            finish(error as Error);
          }
        })();
      }
    });
  }

  private read(chunk: Buffer): void {
    const at = performance.now();
    if (this.settle === undefined) return; // nothing expected (stray bytes after a response)
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const parts: Buffer[] = [];
    try {
      this.parse(parts);
    } catch (error) {
      this.broken = true;
      this.socket?.destroy();
      this.settle?.(error as Error);
      return;
    }
    if (this.onRead !== undefined && this.response !== undefined) {
      const body =
        parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : Buffer.concat(parts);
      this.onRead(body, at);
    }
    if (this.state === "done") this.settle?.(undefined);
  }

  private parse(parts: Buffer[]): void {
    let buf = this.buffer;
    for (;;) {
      if (this.state === "head") {
        const end = buf.indexOf(HEAD_END);
        if (end === -1) break;
        const lines = buf.toString("latin1", 0, end).split("\r\n");
        const status = Number(lines[0]?.split(" ", 2)[1]);
        const headers: Record<string, string> = {};
        for (let i = 1; i < lines.length; i++) {
          const line = lines[i] as string;
          const colon = line.indexOf(":");
          if (colon > 0)
            headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        this.response = { status, headers };
        buf = buf.subarray(end + 4);
        if (headers["transfer-encoding"]?.toLowerCase().includes("chunked")) this.state = "size";
        else {
          this.remaining = Number(headers["content-length"] ?? 0);
          this.state = this.remaining > 0 ? "length" : "done";
        }
      } else if (this.state === "length") {
        if (buf.length === 0) break;
        const take = Math.min(this.remaining, buf.length);
        parts.push(buf.subarray(0, take));
        buf = buf.subarray(take);
        this.remaining -= take;
        if (this.remaining === 0) this.state = "done";
      } else if (this.state === "size") {
        const end = buf.indexOf(CRLF);
        if (end === -1) break;
        const size = Number.parseInt(buf.toString("latin1", 0, end).split(";", 1)[0] as string, 16);
        if (Number.isNaN(size)) throw new Error("bad chunk size");
        buf = buf.subarray(end + 2);
        this.remaining = size;
        this.state = size === 0 ? "trailer" : "data";
      } else if (this.state === "data") {
        if (buf.length === 0) break;
        const take = Math.min(this.remaining, buf.length);
        parts.push(buf.subarray(0, take));
        buf = buf.subarray(take);
        this.remaining -= take;
        if (this.remaining === 0) this.state = "data-crlf";
      } else if (this.state === "data-crlf") {
        if (buf.length < 2) break;
        buf = buf.subarray(2);
        this.state = "size";
      } else if (this.state === "trailer") {
        const end = buf.indexOf(CRLF);
        if (end === -1) break;
        buf = buf.subarray(end + 2);
        if (end === 0) this.state = "done";
      } else break;
    }
    // Copy what is left so a small remainder does not pin a large read buffer.
    this.buffer = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
  }
}

/** The request line and headers of one request. */
export function requestHead(
  method: string,
  path: string,
  host: string,
  headers: Readonly<Record<string, string>>,
  contentLength: number | undefined,
): Buffer {
  let text = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
  if (contentLength !== undefined) text += `content-length: ${contentLength}\r\n`;
  return Buffer.from(`${text}\r\n`);
}
