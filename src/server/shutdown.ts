import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { serviceStopping } from "../openai/errors.ts";
import type { ProxyContext } from "../proxy/context.ts";
import { sendError } from "../proxy/respond.ts";

type Listener = (request: IncomingMessage, response: ServerResponse) => void;

/** Probes keep their own answers during shutdown: /readyz says 503, /healthz says alive. */
const PROBES = new Set(["/healthz", "/readyz"]);

/**
 * Graceful shutdown. Once it begins, the port stays open for the grace period so probes and
 * stragglers get an answer (503, `connection: close`) instead of a refused connection, while
 * requests in flight — streams included — finish; then the server closes. What is still open
 * when the grace period ends is cut.
 */
export class Shutdown {
  private readonly ctx: ProxyContext;
  private inFlight = 0;

  constructor(ctx: ProxyContext) {
    this.ctx = ctx;
  }

  /** Wraps the request listener to count requests in flight and turn new ones away once closing. */
  track(listener: Listener): Listener {
    return (request, response) => {
      if (!this.ctx.ready && !PROBES.has((request.url ?? "").split("?", 1)[0] ?? "")) {
        response.setHeader("connection", "close");
        sendError(response, serviceStopping());
        return;
      }
      this.inFlight += 1;
      response.once("close", () => {
        this.inFlight -= 1;
      });
      listener(request, response);
    };
  }

  /**
   * Stops taking requests, waits for those in flight (and `busy()` sessions) for up to
   * `graceMs`, then closes the server and every connection left (`cut` first).
   */
  async drain(server: Server, graceMs: number, cut: () => void, busy = () => 0): Promise<void> {
    this.ctx.ready = false;
    // Keep-alive connections that finish their request go as soon as they are idle.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    sweep.unref();
    const quiet = () => this.inFlight === 0 && busy() === 0;
    if (!quiet()) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(force);
          clearInterval(poll);
          resolve();
        };
        const force = setTimeout(done, graceMs);
        const poll = setInterval(() => quiet() && done(), 50);
      });
    }
    clearInterval(sweep);
    cut();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
