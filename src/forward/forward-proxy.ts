import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
  STATUS_CODES,
} from "node:http";
import { connect as netConnect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { TLSSocket } from "node:tls";
import { presentedKey } from "../azure/credentials.ts";
import { type ForwardSettings, type HostPort, parseHostPort } from "../config/forward.ts";
import {
  forwardHostRefused,
  invalidConnectTarget,
  type ProxyError,
  proxyKeyInvalid,
  proxyKeyMissing,
  tunnelUnreachable,
} from "../openai/errors.ts";
import { absoluteFormTarget } from "./absolute-form.ts";
import type { CertificateAuthority } from "./ca.ts";
import { proxyCredential } from "./proxy-authorization.ts";
import { type ForwardedVia, markForwarded } from "./via.ts";

/** The log lines of forward mode; fields only, never headers (they carry keys). */
export interface ForwardLog {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface ForwardProxyOptions {
  readonly settings: Pick<ForwardSettings, "hosts" | "tunnels">;
  readonly authority: Pick<CertificateAuthority, "secureContextFor" | "sniCallback">;
  /**
   * Serves a request for an intercepted host, from inside a tunnel or absolute-form rewritten to
   * origin-form: the proxy's own request pipeline, exactly as for direct requests.
   */
  readonly handleRequest: (req: IncomingMessage, res: ServerResponse) => void;
  /** WebSocket upgrades from inside a tunnel (the Realtime API); refused when absent. */
  readonly handleUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /**
   * Whether the proxy lets in a client presenting `key` (from Proxy-Authorization or, for a
   * request without one, from its own headers); `undefined`: no key at all.
   */
  readonly acceptsKey: (key: string | undefined) => boolean;
  readonly log?: ForwardLog;
  /** For the HTTP server inside the tunnels: the main listener's timeouts. */
  readonly serverOptions?: ServerOptions;
  /** How long a client may take to finish the TLS handshake in a tunnel. */
  readonly handshakeTimeoutMs?: number;
  /** Opens a blind tunnel's connection (replaced in tests). */
  readonly connectTunnel?: (target: HostPort) => Socket;
}

/** The HTTP forward proxy side of the listener (`HTTPS_PROXY=http://proxy:port`). */
export interface ForwardProxy {
  /** For the server's `connect` event. */
  handleConnect(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /**
   * Call first for every request of the main listener: true when it was absolute-form and has
   * been dealt with (served through `handleRequest` in origin-form, or refused); false for an
   * ordinary origin-form request, which the caller serves.
   */
  handleAbsoluteForm(req: IncomingMessage, res: ServerResponse): boolean;
  /** Closes tunnels that carry no request now (graceful shutdown). */
  closeIdleConnections(): void;
  /** Closes every tunnel. */
  closeAllConnections(): void;
  /** Closes every tunnel and stops the inner server's timers (at the end of shutdown). */
  close(): void;
}

const NOT_AUTHENTICATED = Symbol("no Proxy-Authorization");
type TunnelKey = string | typeof NOT_AUTHENTICATED;

/**
 * Answers CONNECT for the intercepted hosts by terminating TLS with a certificate from the local
 * CA and serving the requests inside with `handleRequest`; tunnels blindly only to the allow-list;
 * refuses everything else. It never resolves or connects to an intercepted host.
 */
export function createForwardProxy(options: ForwardProxyOptions): ForwardProxy {
  const intercepted = new Set(options.settings.hosts);
  const tunnelAllowed = new Set(options.settings.tunnels.map((t) => `${t.host}:${t.port}`));
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
  const connectTunnel =
    options.connectTunnel ?? ((target: HostPort) => netConnect(target.port, target.host));
  const log = options.log;

  /** Each decrypted tunnel's key from Proxy-Authorization, by its TLS socket. */
  const tunnelKeys = new WeakMap<object, TunnelKey>();
  /** Sockets this module owns that the inner server does not track: handshakes, blind tunnels. */
  const owned = new Set<Duplex>();

  /** Tunnels that have carried a request (see the close handler in intercept). */
  const used = new WeakSet<object>();

  const inner: Server = createServer(options.serverOptions ?? {}, (req, res) => {
    used.add(req.socket);
    serve(req, res, tunnelKeys.get(req.socket) ?? NOT_AUTHENTICATED, "connect");
  });
  // node:http tracks connections (headersTimeout, requestTimeout, closeIdleConnections) from its
  // 'listening' event; this server never listens, it is handed the tunnels' TLS sockets.
  inner.emit("listening");
  const handleUpgrade = options.handleUpgrade;
  // Without a listener, node:http serves an upgrade request as an ordinary one.
  if (handleUpgrade !== undefined) {
    inner.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!admitInner(req, tunnelKeys.get(socket) ?? NOT_AUTHENTICATED)) {
        answerOnSocket(socket, proxyKeyMissing());
        return;
      }
      markForwarded(req, "connect");
      handleUpgrade(req, socket, head);
    });
  }

  /**
   * With a key from Proxy-Authorization, that key is the client's credential and replaces what
   * the app sent (typically a dummy or an OpenAI key); without one, the request's own key counts,
   * as for a direct request.
   */
  function admitInner(req: IncomingMessage, key: TunnelKey): boolean {
    delete req.headers["proxy-authorization"];
    delete req.headers["proxy-connection"];
    if (key !== NOT_AUTHENTICATED) {
      req.headers.authorization = `Bearer ${key}`;
      delete req.headers["api-key"];
      return true;
    }
    return presentedKey(req.headers) !== undefined || options.acceptsKey(undefined);
  }

  function serve(
    req: IncomingMessage,
    res: ServerResponse,
    key: TunnelKey,
    via: ForwardedVia,
  ): void {
    if (!admitInner(req, key)) {
      answer(res, proxyKeyMissing());
      return;
    }
    markForwarded(req, via);
    options.handleRequest(req, res);
  }

  /** The key of a Proxy-Authorization header, or the 407 to answer. */
  function checkProxyAuthorization(req: IncomingMessage): TunnelKey | ProxyError {
    const credential = proxyCredential(req.headers["proxy-authorization"]);
    if (credential.kind === "none") return NOT_AUTHENTICATED;
    if (credential.kind === "malformed" || !options.acceptsKey(credential.key)) {
      return proxyKeyInvalid();
    }
    return credential.key;
  }

  function handleConnect(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => {});
    const target = parseHostPort(req.url ?? "");
    if (target === undefined) {
      refuse(socket, invalidConnectTarget(req.url ?? ""), req.url ?? "");
      return;
    }
    const name = `${target.host}:${target.port}`;
    const key = checkProxyAuthorization(req);
    if (typeof key === "object") {
      refuse(socket, key, name);
      return;
    }
    if (intercepted.has(target.host)) {
      intercept(socket, head, target.host, key);
      return;
    }
    if (!tunnelAllowed.has(name)) {
      refuse(socket, forwardHostRefused(name), name);
      return;
    }
    // A blind tunnel has no inner request to carry a key: the proxy key must be enough.
    if (!options.acceptsKey(key === NOT_AUTHENTICATED ? undefined : key)) {
      refuse(socket, proxyKeyMissing(), name);
      return;
    }
    tunnel(socket, head, target, name);
  }

  function refuse(socket: Duplex, error: ProxyError, target: string): void {
    log?.info(
      { target: target.slice(0, 300), status: error.status, error: error.code },
      "forward refused",
    );
    answerOnSocket(socket, error);
  }

  function intercept(socket: Duplex, head: Buffer, host: string, key: TunnelKey): void {
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) socket.unshift(head);
    const tls = new TLSSocket(socket as Socket, {
      isServer: true,
      secureContext: options.authority.secureContextFor(host),
      SNICallback: options.authority.sniCallback,
      ALPNProtocols: ["http/1.1"],
    });
    tunnelKeys.set(tls, key);
    owned.add(tls);
    let state: "handshake" | "failed" | "open" = "handshake";
    const timer = setTimeout(() => tls.destroy(), handshakeTimeoutMs);
    timer.unref();
    const onHandshakeError = (error: NodeJS.ErrnoException) => {
      state = "failed";
      log?.warn(
        { host, reason: error.code ?? error.message, hint: handshakeHint(error) },
        "TLS handshake in a forward tunnel failed",
      );
      tls.destroy();
    };
    // The listener's sockets allow half-open connections and the TLS socket inherits that, so a
    // client that hangs up mid-handshake would leave it open until the timer: close it now.
    const onHandshakeEnd = () => tls.destroy();
    tls.once("error", onHandshakeError);
    tls.once("end", onHandshakeEnd);
    tls.once("secure", () => {
      state = "open";
      clearTimeout(timer);
      tls.off("error", onHandshakeError);
      tls.off("end", onHandshakeEnd);
      owned.delete(tls);
      log?.debug({ host }, "forward tunnel opened");
      inner.emit("connection", tls);
    });
    // Node clients check the certificate once the server's part of the handshake is done and, when
    // they do not trust it, just hang up: no TLS alert, often no error here. A tunnel that closes
    // before its first request is the only sign, so it is logged with the hint.
    tls.once("close", () => {
      clearTimeout(timer);
      owned.delete(tls);
      if (state === "failed" || used.has(tls)) return;
      log?.info(
        { host, hint: UNTRUSTED_HINT },
        state === "open"
          ? "a client closed its forward tunnel without sending a request"
          : "a client closed its forward tunnel during the TLS handshake",
      );
    });
  }

  function tunnel(client: Duplex, head: Buffer, target: HostPort, name: string): void {
    const upstream = connectTunnel(target);
    owned.add(client);
    owned.add(upstream);
    const forget = () => {
      owned.delete(client);
      owned.delete(upstream);
    };
    let connected = false;
    upstream.setTimeout(TUNNEL_CONNECT_TIMEOUT_MS, () => {
      upstream.destroy(Object.assign(new Error("connect timed out"), { code: "ETIMEDOUT" }));
    });
    upstream.once("connect", () => {
      connected = true;
      upstream.setTimeout(0);
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
      log?.debug({ target: name }, "blind tunnel opened");
    });
    upstream.on("error", (error: NodeJS.ErrnoException) => {
      if (!connected) {
        log?.info({ target: name, reason: error.code ?? error.message }, "blind tunnel failed");
        answerOnSocket(client, tunnelUnreachable(name, error.code ?? error.message));
      } else client.destroy();
    });
    client.on("close", () => {
      upstream.destroy();
      forget();
    });
    upstream.on("close", () => {
      // Before the connection, the client is being answered 502 and closes after it.
      if (connected) client.destroy();
      forget();
    });
  }

  function handleAbsoluteForm(req: IncomingMessage, res: ServerResponse): boolean {
    const target = absoluteFormTarget(req.url ?? "/");
    if (target === undefined) return false;
    const key = checkProxyAuthorization(req);
    if (typeof key === "object") {
      log?.info(
        { target: target.authority, status: key.status, error: key.code },
        "forward refused",
      );
      answer(res, key);
      return true;
    }
    if (!intercepted.has(target.host)) {
      const refusal = forwardHostRefused(target.authority);
      log?.info({ target: target.authority, status: 403, error: refusal.code }, "forward refused");
      answer(res, refusal);
      return true;
    }
    req.url = target.path;
    req.headers.host = target.authority;
    serve(req, res, key, "absolute-form");
    return true;
  }

  function closeAllConnections(): void {
    inner.closeAllConnections();
    for (const socket of owned) socket.destroy();
    owned.clear();
  }

  return {
    handleConnect,
    handleAbsoluteForm,
    closeIdleConnections: () => inner.closeIdleConnections(),
    closeAllConnections,
    close() {
      closeAllConnections();
      // Clears node:http's connection-checking interval; the server never listened, so the
      // callback only reports that.
      inner.close(() => {});
    },
  };
}

const TUNNEL_CONNECT_TIMEOUT_MS = 10_000;
const ANSWER_LINGER_MS = 5_000;

const UNTRUSTED_HINT =
  "the client may not trust the proxy's CA: point NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, REQUESTS_CA_BUNDLE or curl --cacert at its ca.pem";

/** What to tell the operator when a client refused the proxy's certificate. */
function handshakeHint(error: NodeJS.ErrnoException): string | undefined {
  const text = `${error.code ?? ""} ${error.message}`;
  return /unknown.ca|bad.certificate|certificate.unknown/i.test(text) ? UNTRUSTED_HINT : undefined;
}

function errorBody(error: ProxyError): string {
  return JSON.stringify(error.toBody());
}

function answer(res: ServerResponse, error: ProxyError): void {
  const body = errorBody(error);
  res.writeHead(error.status, {
    ...error.headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** An HTTP/1.1 response written on a socket that has left the HTTP parser (CONNECT), then closed. */
function answerOnSocket(socket: Duplex, error: ProxyError): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = errorBody(error);
  const headers = {
    ...error.headers,
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    connection: "close",
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  // The socket allows half-open connections: it is closed when the client hangs up after reading
  // the answer, or after a while if it never does. Its bytes are drained meanwhile, so closing
  // does not reset the connection before the answer is read.
  socket.once("end", () => socket.destroy());
  socket.resume();
  const linger = setTimeout(() => socket.destroy(), ANSWER_LINGER_MS);
  linger.unref();
  socket.once("close", () => clearTimeout(linger));
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ""}\r\n${lines.join("")}\r\n${body}`,
  );
}
