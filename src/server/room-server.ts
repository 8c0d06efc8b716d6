/**
 * The room server: an HTTP server whose upgrades are authenticated and handed
 * to `ws` (noServer), a heartbeat, and graceful shutdown around the core.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { pino, type Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { TokenError, verifyToken, type VerifiedToken } from '../auth/token.js';
import { FIRST_PACKET_HEADER_SIZE } from '../protocol/index.js';
import { CloseCode, CloseReason } from '../protocol/close-codes.js';
import type { DirectoryStats } from './core/room-directory.js';
import { RoomServerCore, isRefusal, type Admission } from './core/room-server-core.js';
import { RedisRoomDirectory } from './cluster/redis-directory.js';
import { checkPublicUrl, formatUrl, requestBaseUrl } from './addresses.js';
import { roomUrlUnder } from '../protocol/room-url.js';
import { combineObservers } from './core/observer.js';
import { ConsoleServer } from './console/console-server.js';
import { accountsRoute } from './accounts-routes.js';
import { handleHttpRequest, roomsWithoutUpgradeRoute, statusRoute, type HttpRoute } from './http-routes.js';
import { LogLimiter } from './log-limiter.js';
import { listenMetrics, metricsRoute, type MetricsListener } from './metrics/metrics-endpoint.js';
import { createServerMetrics, type ServerMetrics } from './metrics/server-metrics.js';
import { SERVER_DEFAULTS, resolveLimits, type RoomServerLimits, type RoomServerOptions } from './options.js';
import { extractToken, originAllowed, parseRoomTarget, pathOf, refuseUpgrade, tokenSubprotocol, type UpgradeRefusal } from './upgrade.js';
import { WsConnection, type WsConnectionOptions } from './ws-binding.js';
import { ResumeRefusal, parseResumeAsk } from '../protocol/resume.js';
import { nodeOfResumeKey } from './core/resumable-sessions.js';
import { FORWARDED_HEADER, forwardResume } from './resume-forwarding.js';
import { RedisSessionJournals } from './cluster/session-journal.js';
import type { ParticipantSession } from './core/participant-session.js';
import { RoomStateError, RoomStateErrorCode, ValidationError } from '../errors.js';

/** Where a listening server is. */
export interface RoomServerAddress {
  /** The host it listens on. */
  host: string;
  /** The port it listens on. */
  port: number;
  /** Base websocket URL, e.g. `ws://127.0.0.1:8080` (`wss://` with TLS); rooms are at `/rooms/:room`. */
  url: string;
  /** Where metrics are served (`http[s]://HOST:PORT/metrics`), when they are on. */
  metricsUrl?: string;
}

/** Options of {@link RoomServer.close}. */
export interface RoomServerCloseOptions {
  /**
   * Close code sent to clients.
   * @defaultValue 1012
   */
  code?: number;
  /**
   * Close reason sent to clients.
   * @defaultValue 'server shutting down'
   */
  reason?: string;
  /**
   * Time clients get to finish the close handshake before they are terminated
   * (ws itself drops a peer that never answers after 30 s).
   * @defaultValue 5000
   */
  timeoutMs?: number;
}

/** A running (or ready to run) room server. */
export interface RoomServer {
  /** Starts listening; resolves with the bound address. */
  listen(): Promise<RoomServerAddress>;
  /**
   * Stops accepting, closes every client (1012 "server shutting down" by
   * default), terminates stragglers after `timeoutMs`, and resolves when all
   * are closed and the port is released.
   */
  close(options?: RoomServerCloseOptions): Promise<void>;
  /** The bound address while listening. */
  readonly address: RoomServerAddress | undefined;
  /** Room, participant and messaging-enabled counts. */
  stats(): DirectoryStats;
}

class NodeRoomServer implements RoomServer {
  private readonly limits: RoomServerLimits;
  private readonly logger: Logger;
  /** Budgets of the log lines clients cause. */
  private readonly logs: LogLimiter;
  private readonly core: RoomServerCore;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<WsConnection>();
  /** What every connection of this server is created with (one object, shared). */
  private readonly connectionOptions: WsConnectionOptions;
  /** Clients whose resume this node forwards to their session's node. */
  private readonly forwarded = new Set<WebSocket>();
  /** The Redis directory, in a cluster. */
  private readonly cluster: RedisRoomDirectory | undefined;
  private readonly metrics: ServerMetrics | undefined;
  private readonly publicUrl: string | undefined;
  private metricsListener: MetricsListener | undefined;
  private readonly console: ConsoleServer | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private bound: RoomServerAddress | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: RoomServerOptions) {
    if (typeof options.secret !== 'string' || options.secret.length === 0) {
      throw new ValidationError('secret', 'createRoomServer needs a non-empty `secret` to verify participant tokens.');
    }
    this.limits = resolveLimits(options.limits);
    this.logger = options.logger ? options.logger : pino({ enabled: false });
    this.logs = new LogLimiter({ logger: this.logger, suppressed: () => this.core.context.observer.logLineSuppressed(), clock: options.clock, timers: options.timers });
    this.publicUrl = options.publicUrl === undefined ? undefined : checkPublicUrl(options.publicUrl);
    if (options.metrics) this.metrics = createServerMetrics({ connections: () => this.connections.size, stats: () => this.core.stats() });
    if (options.console) {
      this.console = new ConsoleServer({
        secret: options.secret,
        maxTokenLength: this.limits.maxTokenLength,
        maxConnectionsPerIdentity: this.limits.maxConnectionsPerIdentity,
        slowConsumerTimeoutMs: this.limits.slowConsumerTimeoutMs,
        slowConsumerCut: () => this.core.context.observer.slowConsumerCut(),
        // A cluster directory has a node id; the in-memory one has none.
        node: () => (this.core.context.directory as { readonly nodeId?: string }).nodeId ?? null,
      });
    }
    const observers = [this.metrics?.observer, this.console?.observer, options.observer].filter((observer) => observer !== undefined);
    const observer = observers.length === 0 ? undefined : combineObservers(...observers);
    const directory = options.redis === undefined ? undefined : new RedisRoomDirectory(options.redis, this.limits, this.logger);
    this.cluster = directory;
    this.core = new RoomServerCore({
      limits: this.limits,
      logger: this.logger,
      broadcastToSender: options.broadcastToSender ?? false,
      observer,
      clock: options.clock,
      wallClock: options.wallClock,
      timers: options.timers,
      directory,
      ...(directory === undefined ? {} : { nodeId: directory.nodeId, journals: new RedisSessionJournals(directory.journalLink, this.journalTtlMs()) }),
    });
    this.connectionOptions = {
      maxBufferedBytes: this.limits.maxBufferedBytes,
      slowConsumerTimeoutMs: this.limits.slowConsumerTimeoutMs,
      partialMessageTimeoutMs: this.limits.partialMessageTimeoutMs,
      closeTimeoutMs: options.closeTimeoutMs ?? SERVER_DEFAULTS.closeTimeoutMs,
      observer: this.core.context.observer,
      clock: this.core.context.clock,
      timers: this.core.context.timers,
      closed: (connection) => this.connections.delete(connection),
    };
    const maxTypeBytes = Math.min(this.limits.maxTypeBytes, 65_536);
    this.wss = new WebSocketServer({
      noServer: true,
      // The server keeps its own connection set for heartbeats and shutdown.
      clientTracking: false,
      perMessageDeflate: options.perMessageDeflate ?? false,
      // One frame never needs more than a maximal message plus its packet header.
      maxPayload: Number.isFinite(this.limits.maxMessageBytes) ? this.limits.maxMessageBytes + FIRST_PACKET_HEADER_SIZE + maxTypeBytes : 0,
      handleProtocols: (protocols) => tokenSubprotocol(protocols) ?? false,
    });
    const accounts = accountsRoute({
      secret: options.secret,
      maxTokenLength: this.limits.maxTokenLength,
      maxRoomNameLength: this.limits.maxRoomNameLength,
      baseUrl: (request) => this.baseUrl(request),
      wallClock: () => this.core.context.wallClock(),
      logger: (request) => this.logs.gate(this.logger, request.socket.remoteAddress ?? 'unknown'),
    });
    const routes: HttpRoute[] = [statusRoute(() => this.status()), roomsWithoutUpgradeRoute, accounts];
    if (this.metrics && this.metricsPort() === undefined) routes.push(metricsRoute(this.metrics));
    if (this.console) routes.unshift(this.console.route);
    const onRequest: RequestListener = (request, response) => void handleHttpRequest(request, response, routes);
    this.http = options.tls ? createTlsServer(options.tls, onRequest) : createServer(onRequest);
    this.http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.upgrade(request, socket, head);
    });
  }

  /** The websocket base URL a client should use: `publicUrl`, else the request's Host. */
  private baseUrl(request: IncomingMessage): string {
    return this.publicUrl ?? requestBaseUrl(request, this.options.tls !== undefined, this.bound?.url ?? 'ws://127.0.0.1');
  }

  /** The separate metrics port, when metrics are on and have one. */
  private metricsPort(): number | undefined {
    const { metrics } = this.options;
    return typeof metrics === 'object' ? metrics.port : undefined;
  }

  get address(): RoomServerAddress | undefined {
    return this.bound;
  }

  stats(): DirectoryStats {
    return this.core.stats();
  }

  private async status(): Promise<DirectoryStats & Record<string, unknown>> {
    return { ...this.core.stats(), ...(await this.core.context.directory.status()) };
  }

  async listen(): Promise<RoomServerAddress> {
    if (this.closing) throw new RoomStateError(RoomStateErrorCode.Closed, 'the room server was closed; create a new one.');
    if (this.bound) return this.bound;
    await this.core.context.directory.open();
    const host = this.options.host ?? SERVER_DEFAULTS.host;
    const port = await new Promise<number>((resolve, reject) => {
      // A port that cannot be bound leaves nothing behind: the directory lets go of Redis too.
      const onError = (error: Error) => void this.core.context.directory.close().finally(() => reject(error));
      this.http.once('error', onError);
      this.http.listen(this.options.port ?? SERVER_DEFAULTS.port, host, () => {
        this.http.off('error', onError);
        const info = this.http.address();
        resolve(typeof info === 'object' && info ? info.port : (this.options.port ?? SERVER_DEFAULTS.port));
      });
    });
    const secure = this.options.tls !== undefined;
    const bound: RoomServerAddress = { host, port, url: formatUrl(secure ? 'wss' : 'ws', host, port) };
    if (this.metrics) {
      const metricsPort = this.metricsPort();
      if (metricsPort === undefined) bound.metricsUrl = `${formatUrl(secure ? 'https' : 'http', host, port)}/metrics`;
      else {
        try {
          this.metricsListener = await listenMetrics(this.metrics, (this.options.metrics as { host?: string }).host ?? host, metricsPort);
        } catch (error) {
          await new Promise<void>((resolve) => this.http.close(() => resolve()));
          throw error;
        }
        bound.metricsUrl = this.metricsListener.url;
      }
    }
    this.bound = bound;
    if (this.cluster !== undefined) {
      const nodeUrl = typeof this.options.redis === 'object' ? this.options.redis.nodeUrl : undefined;
      await this.cluster.advertise(nodeUrl ?? bound.url);
    }
    this.startHeartbeat();
    this.logger.info({ url: bound.url, metrics: bound.metricsUrl }, 'room server listening');
    return bound;
  }

  close(options: RoomServerCloseOptions = {}): Promise<void> {
    this.closing ??= this.shutdown(options);
    return this.closing;
  }

  private async shutdown({ code = CloseCode.ServiceRestart, reason = CloseReason.ShuttingDown, timeoutMs = SERVER_DEFAULTS.shutdownTimeoutMs }: RoomServerCloseOptions): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    const httpClosed = new Promise<void>((resolve) => {
      if (!this.http.listening) resolve();
      else this.http.close(() => resolve());
    });
    this.http.closeIdleConnections();
    const socketsClosed = [...this.connections].map(
      (connection) => new Promise<void>((resolve) => {
        if (connection.ws.readyState === 3) resolve();
        else connection.ws.once('close', () => resolve());
      }),
    );
    // Leave presence quietly: everyone is going, so nobody is told about anybody.
    for (const connection of this.connections) connection.mute();
    for (const connection of this.connections) connection.session?.closed();
    // A single node's restart ends every session: the detached ones have no connection left to close.
    this.core.endDetachedSessions();
    // ws.close, not connection.close: the binding would terminate a slow peer
    // after closeTimeoutMs, and shutdown gives every client timeoutMs instead.
    for (const connection of this.connections) if (connection.ws.readyState === WebSocket.OPEN) connection.ws.close(code, reason);
    // A drop for the session's node (see resume-forwarding.ts), so the session there waits for a resume.
    for (const client of this.forwarded) if (client.readyState === WebSocket.OPEN) client.close(code, reason);
    this.console?.close(code, reason);
    const deadline = setTimeout(() => {
      for (const connection of this.connections) connection.terminate();
      this.http.closeAllConnections();
    }, timeoutMs);
    await Promise.all([httpClosed, this.metricsListener?.close(), ...socketsClosed]);
    clearTimeout(deadline);
    await this.core.context.directory.close();
    this.wss.close();
    this.logs.close();
    this.bound = undefined;
    this.logger.info('room server closed');
  }

  /**
   * How long a journaled session's keys outlive their last write: the
   * recovery window, plus a heartbeat (an idle attached session's journal is
   * renewed by each acknowledging pong); 0 (none) for an endless window.
   */
  private journalTtlMs(): number {
    const window = this.limits.recoveryWindowMs;
    return Number.isFinite(window) ? window + (this.options.heartbeatIntervalMs ?? SERVER_DEFAULTS.heartbeatIntervalMs) : 0;
  }

  private startHeartbeat(): void {
    const interval = this.options.heartbeatIntervalMs ?? SERVER_DEFAULTS.heartbeatIntervalMs;
    if (!(interval > 0) || !Number.isFinite(interval)) return;
    this.heartbeat = setInterval(() => {
      for (const connection of this.connections) {
        if (connection.heartbeat()) continue;
        this.logger.info({ participant: connection.session?.id }, 'peer missed a heartbeat and read nothing since; terminating');
        connection.terminate();
      }
    }, interval);
    this.heartbeat.unref();
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // A client that resets during the async token check must not crash the process.
    // Not a closure: the listener stays on the socket for its whole life, and a
    // closure here would keep this call's scope (the request, its logger) with it.
    socket.on('error', destroySocket);
    const source = request.socket.remoteAddress ?? 'unknown';
    const logger = this.logs.gate(this.logger, source);
    const refuse = (refusal: UpgradeRefusal, level: 'info' | 'warn' = 'info') => {
      logger[level]({ status: refusal.status, reason: refusal.reason, remote: request.socket.remoteAddress }, 'upgrade refused');
      this.core.context.observer.upgradeRefused(refusal.status, refusal.reason);
      refuseUpgrade(socket, refusal);
    };
    if (this.closing) return refuse({ status: 503, reason: CloseReason.ShuttingDown });
    // The origin check comes first: the console's sockets obey it like the rooms.
    if (!originAllowed(request, this.options.allowedOrigins)) return refuse({ status: 403, reason: 'origin not allowed' }, 'warn');
    if (this.console?.ownsUpgrade(pathOf(request))) return this.console.handleUpgrade({ path: pathOf(request), request, socket, head, logger, refuse });
    const target = parseRoomTarget(request.url ?? '/', this.limits.maxRoomNameLength);
    if ('status' in target) return refuse(target);
    const found = extractToken(request, target.query);
    let token: VerifiedToken;
    try {
      token = await verifyToken(found?.token, { secret: this.options.secret, room: target.roomName, maxTokenLength: this.limits.maxTokenLength });
    } catch (error) {
      // Only the short reason is logged, never the token.
      const reason = error instanceof TokenError ? error.reason : 'invalid token';
      return refuse({ status: 403, reason }, 'warn');
    }
    if (this.closing) return refuse({ status: 503, reason: CloseReason.ShuttingDown });
    if (socket.destroyed) return;
    // Extension: resumable participants. Official clients ask nothing and take the usual road.
    const ask = parseResumeAsk(target.query);
    let refusal: ResumeRefusal | undefined = ask?.malformed;
    if (ask?.kind === 'resume') {
      const session = this.core.findResumable(ask.key, target.roomName, token, ask.received);
      if (typeof session !== 'string') {
        // The session holds its place: no admission. ws completes the upgrade synchronously here.
        this.wss.handleUpgrade(request, socket, head, (ws) => this.acceptResume(ws, request, session, token, ask.received, source));
        return;
      }
      refusal = session;
      if (session === ResumeRefusal.Unknown && this.cluster !== undefined) {
        // The node that holds it, as journaled (the key names the node that made it; a takeover moves it).
        const journaled = await this.cluster.sessionOwner(target.roomName, ask.key);
        const owner = journaled?.owner ?? nodeOfResumeKey(ask.key);
        const forwarded = request.headers[FORWARDED_HEADER] !== undefined;
        if (!forwarded && found !== undefined && owner !== undefined && (await this.forwardToNode(request, socket, head, owner, found.token, logger))) return;
        if (journaled !== undefined && journaled.owner !== this.cluster.nodeId) {
          const outcome = await this.takeOver(request, socket, head, target.roomName, ask.key, journaled, token, ask.received, source);
          if (outcome === undefined) return;
          refusal = outcome;
        }
      }
    }
    const admission = await this.core.admit(target.roomName, token.name);
    if (isRefusal(admission)) return refuse(admission, 'warn');
    // ws gives up silently on a socket that died meanwhile: give the place back then.
    let settled = false;
    const release = () => {
      if (settled) return;
      settled = true;
      this.core.release(admission);
    };
    socket.once('close', release);
    if (this.closing || socket.destroyed) {
      release();
      return refuse({ status: 503, reason: CloseReason.ShuttingDown });
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      settled = true;
      socket.off('close', release);
      this.accept(ws, request, admission, token, found?.source, source, ask === undefined ? undefined : refusal === undefined ? {} : { refusal });
    });
  }

  /**
   * A resume of a session another node journaled, which could not be reached
   * (it died): the session is taken over and restored here as the same
   * participant. Undefined once done; otherwise why not (the client joins anew).
   */
  private async takeOver(request: IncomingMessage, socket: Duplex, head: Buffer, roomName: string, key: string, journaled: { owner: string; id: string }, token: VerifiedToken, received: number, source: string): Promise<ResumeRefusal | undefined> {
    const taken = await this.cluster!.takeOver(roomName, key, journaled, token.name, token.role, received);
    if (typeof taken === 'string') return taken;
    if (this.closing || socket.destroyed) {
      taken.abandon();
      return undefined;
    }
    let settled = false;
    const abandon = () => {
      if (settled) return;
      settled = true;
      taken.abandon();
    };
    socket.once('close', abandon);
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      settled = true;
      socket.off('close', abandon);
      const connection = this.connectionFor(ws, roomName, token, source);
      const session = this.core.restore({ room: taken.room, key, restored: taken.restored, token, roomUrl: this.roomUrlOf(request, roomName), connection });
      connection.session = session;
      connection.log.info({ participant: session.id, from: journaled.owner, replayed: taken.restored.replay.length }, 'participant resumed, taken over from a node that could not be reached');
    });
    return undefined;
  }

  /** A resume of a session on another node: forwarded there, when that node can be reached. */
  private async forwardToNode(request: IncomingMessage, socket: Duplex, head: Buffer, node: string, token: string, logger: Logger): Promise<boolean> {
    if (this.cluster === undefined || node === this.cluster.nodeId) return false;
    const nodeUrl = await this.cluster.nodeUrl(node);
    // A dead node's URL may be this node's (restarted on its port): nothing to forward to.
    if (nodeUrl === undefined || nodeUrl === this.cluster.advertisedUrl || this.closing || socket.destroyed) return false;
    return forwardResume({
      nodeUrl,
      request,
      socket,
      head,
      token,
      wss: this.wss,
      logger,
      piped: (client) => {
        this.forwarded.add(client);
        client.once('close', () => this.forwarded.delete(client));
      },
    });
  }

  private connectionFor(ws: WebSocket, roomName: string, token: VerifiedToken, source: string): WsConnection {
    const connection = new WsConnection(ws, this.connectionOptions, this.logs.connectionLog(this.logger, source, roomName, token.name));
    this.connections.add(connection);
    return connection;
  }

  private roomUrlOf(request: IncomingMessage, roomName: string): string {
    return roomUrlUnder(this.baseUrl(request), roomName);
  }

  private accept(ws: WebSocket, request: IncomingMessage, admission: Admission, token: VerifiedToken, tokenSource: string | undefined, source: string, resume: { refusal?: ResumeRefusal } | undefined): void {
    const roomName = admission.room.name;
    const connection = this.connectionFor(ws, roomName, token, source);
    const session = this.core.join({ admission, roomUrl: this.roomUrlOf(request, roomName), token, connection, ...(resume === undefined ? {} : { resume }) });
    connection.session = session;
    connection.log.info({ participant: session.id, role: session.role, via: tokenSource, resumeRefused: resume?.refusal }, 'participant connected');
  }

  /** A resume the upgrade found possible: the session moves onto this socket. */
  private acceptResume(ws: WebSocket, request: IncomingMessage, session: ParticipantSession, token: VerifiedToken, received: number, source: string): void {
    const roomName = session.room.name;
    const connection = this.connectionFor(ws, roomName, token, source);
    const refusal = this.core.resume(session, { token, received, roomUrl: this.roomUrlOf(request, roomName), connection });
    if (refusal !== undefined) {
      // It ended in between: the client reconnects, is told why, and joins anew.
      connection.log.info({ participant: session.id, reason: refusal }, 'resume failed after the upgrade');
      connection.close(CloseCode.ServiceRestart, refusal);
      return;
    }
    connection.session = session;
    connection.log.info({ participant: session.id }, 'participant resumed');
  }
}

/** Destroys the socket that emitted an error (`this`). */
function destroySocket(this: Duplex): void {
  this.destroy();
}

/**
 * Creates a room server. Call {@link RoomServer.listen} to start it.
 *
 * @example
 * ```ts
 * const server = createRoomServer({ secret: process.env.ROOM_SECRET!, port: 0 });
 * const { url } = await server.listen(); // ws://127.0.0.1:PORT, rooms at `${url}/rooms/<room>`
 * // ...
 * await server.close();
 * ```
 */
export function createRoomServer(options: RoomServerOptions): RoomServer {
  return new NodeRoomServer(options);
}
