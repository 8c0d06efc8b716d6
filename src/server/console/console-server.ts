/**
 * The live console of a room server (`createRoomServer({ console: true })`):
 * the page at `/console`, the viewer feed (`/console/feed`, a websocket that
 * pushes rooms, participants, their session state and event logs, and the
 * inspected clients' actors), and the inspector endpoint (`/console/inspect`)
 * that `consoleInspector` sends client inspection events to. Every data path
 * needs an admin token; nothing here acts in a room. One admin identity may
 * hold {@link ConsoleServerOptions.maxConnectionsPerIdentity} console
 * connections; a viewer gets the whole state once and then only what
 * changed, and one that stops reading is cut like a slow participant.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { TokenError, verifyAdminToken, type AdminScope } from '../../auth/token.js';
import { RoomStateError, RoomStateErrorCode } from '../../errors.js';
import { MACHINE_NAMES, machineStatechart } from '../../diagram/machines.js';
import type { ServerObserver } from '../core/observer.js';
import type { HttpRoute } from '../http-routes.js';
import { logText } from '../log-limiter.js';
import { pathOf, type UpgradeRefusal } from '../upgrade.js';
import { CloseCode, CloseReason } from '../../protocol/close-codes.js';
import { sendJson, servePageAsset } from './console-page.js';
import { CONSOLE_FEED_PATH, CONSOLE_INSPECT_PATH, CONSOLE_PATH, CONSOLE_TOKEN_PROTOCOL, CONSOLE_WHOAMI_PATH, type FeedMessage, type ViewerMessage } from '../../console/feed-protocol.js';
import { FeedChanges } from './feed-changes.js';
import { InspectedClients, parseInspectMessage } from './inspected-clients.js';
import { ParticipantTracker } from './participant-tracker.js';

/** What the console needs from its server. */
export interface ConsoleServerOptions {
  readonly secret: string;
  readonly maxTokenLength: number;
  /** This server's cluster node id, shown beside its participants; null when not clustered. */
  readonly node?: () => string | null;
  /** Console connections (viewers and inspectors) one admin identity may hold at once, as participants' per room. */
  readonly maxConnectionsPerIdentity: number;
  /** How long a viewer may stay over {@link MAX_VIEWER_BACKLOG} without draining before it is cut, as participants'. */
  readonly slowConsumerTimeoutMs: number;
  /** Told when a viewer is cut as a slow consumer (the server's slow-consumer metric). */
  readonly slowConsumerCut?: () => void;
}

/** What the room server hands over with a console upgrade. */
export interface ConsoleUpgrade {
  readonly path: string;
  readonly request: IncomingMessage;
  readonly socket: Duplex;
  readonly head: Buffer;
  /** The upgrade's (rate-limited) logger. */
  readonly logger: Logger;
  /** Refuses the upgrade (logged and counted like the rooms' refusals). */
  readonly refuse: (refusal: UpgradeRefusal, level?: 'info' | 'warn') => void;
}

/** Longest viewer or inspector message. */
const MAX_MESSAGE_BYTES = 64 * 1024;
/** Bytes queued to a viewer beyond which it must be draining or be cut. */
export const MAX_VIEWER_BACKLOG = 1024 * 1024;
/** State pushes are coalesced over this many ms. */
const PUSH_DELAY_MS = 50;

interface Viewer {
  readonly ws: WebSocket;
  selected: string | null;
  /** Set until the viewer got its first (whole) state. */
  fresh: boolean;
  /** Armed while the viewer is over the backlog. */
  drain: NodeJS.Timeout | undefined;
}

/** The admin token of a request: the `roomstate-console.<jwt>` subprotocol (browsers) or a Bearer header. */
function tokenOf(request: IncomingMessage): string | undefined {
  const offered = request.headers['sec-websocket-protocol']?.split(',').map((p) => p.trim()) ?? [];
  const protocol = offered.find((p) => p.startsWith(CONSOLE_TOKEN_PROTOCOL));
  if (protocol) return protocol.slice(CONSOLE_TOKEN_PROTOCOL.length);
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
}

/** The console of one room server. */
export class ConsoleServer {
  private readonly tracker: ParticipantTracker;
  private readonly clients = new InspectedClients((change) => {
    // Without viewers nothing is marked: a new viewer starts from a whole state.
    if (this.viewers.size === 0) return;
    this.changes.inspectedChanged(change);
    this.schedule();
  });
  private readonly changes: FeedChanges;
  private readonly viewers = new Set<Viewer>();
  /** Open console connections per admin identity. */
  private readonly perIdentity = new Map<string, number>();
  private readonly sockets = new Set<WebSocket>();
  private readonly diagrams = new Map<string, Promise<string>>();
  private readonly wss: WebSocketServer;
  private readonly ticker: NodeJS.Timeout;
  private pending: NodeJS.Timeout | undefined;

  /** The observer the server core reports to. */
  readonly observer: Partial<ServerObserver>;

  constructor(private readonly options: ConsoleServerOptions) {
    this.tracker = new ParticipantTracker(Date.now, options.node);
    this.changes = new FeedChanges(this.tracker, this.clients);
    this.observer = this.tracker.observer;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: MAX_MESSAGE_BYTES,
      handleProtocols: (protocols) => [...protocols].find((p) => p.startsWith(CONSOLE_TOKEN_PROTOCOL)) ?? false,
    });
    this.tracker.subscribe((change) => {
      if (change.kind !== 'log') {
        if (this.viewers.size === 0) return;
        this.changes.tracked(change);
        return this.schedule();
      }
      for (const viewer of this.viewers) {
        if (viewer.selected === change.participantId && !viewer.fresh) this.send(viewer, { type: 'log', participantId: change.participantId, entries: [change.entry], reset: false });
      }
    });
    let last = performance.now();
    this.ticker = setInterval(() => {
      const now = performance.now();
      this.tracker.tick((now - last) / 1000);
      last = now;
    }, 1000);
    this.ticker.unref();
  }

  /** Answers `/console` HTTP requests; false for other paths. */
  async handleRequest(path: string, request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    if (await servePageAsset(path, request, response)) return true;
    if (path !== CONSOLE_WHOAMI_PATH) return false;
    const admin = await this.authorize(tokenOf(request), 'console');
    if (typeof admin === 'string') sendJson(response, 403, { error: admin });
    else sendJson(response, 200, admin);
    return true;
  }

  /** The console's entry in the server's HTTP route table: `/console` and below. */
  readonly route: HttpRoute = {
    matches: (path) => path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`),
    handle: async (request, response, head) => {
      if (!(await this.handleRequest(pathOf(request), request, response))) sendJson(response, 404, { error: 'not found' }, head);
    },
  };

  /** Whether an upgrade to `path` is the console's. */
  ownsUpgrade(path: string): boolean {
    return path === CONSOLE_FEED_PATH || path === CONSOLE_INSPECT_PATH;
  }

  /** Authenticates and accepts a viewer or inspector websocket (the room server checked its origin). */
  async handleUpgrade({ path, request, socket, head, logger, refuse }: ConsoleUpgrade): Promise<void> {
    const admin = await this.authorize(tokenOf(request), path === CONSOLE_FEED_PATH ? 'console' : 'inspect');
    if (typeof admin === 'string') return refuse({ status: 403, reason: admin }, 'warn');
    if ((this.perIdentity.get(admin.name) ?? 0) >= this.options.maxConnectionsPerIdentity) {
      return refuse({ status: 429, reason: 'too many console connections for this identity' }, 'warn');
    }
    if (socket.destroyed) return;
    // Counted before the handshake completes, so that simultaneous upgrades cannot overshoot.
    this.count(admin.name, +1);
    let counted = true;
    const uncount = () => {
      if (counted) this.count(admin.name, -1);
      counted = false;
    };
    socket.once('close', uncount);
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      this.sockets.add(ws);
      ws.once('close', () => {
        this.sockets.delete(ws);
        uncount();
      });
      logger.info({ path, admin: logText(admin.name) }, 'console connection');
      if (path === CONSOLE_FEED_PATH) this.acceptViewer(ws, logger);
      else this.acceptInspector(ws, admin.name);
    });
  }

  private count(identity: string, delta: number): void {
    const count = (this.perIdentity.get(identity) ?? 0) + delta;
    if (count > 0) this.perIdentity.set(identity, count);
    else this.perIdentity.delete(identity);
  }

  /** Closes every console connection and stops the rate ticker. */
  close(code: number, reason: string): void {
    clearInterval(this.ticker);
    clearTimeout(this.pending);
    for (const ws of this.sockets) ws.close(code, reason);
    this.wss.close();
  }

  private async authorize(token: string | undefined, need: AdminScope): Promise<{ name: string; scope: AdminScope } | string> {
    try {
      return await verifyAdminToken(token, need, { secret: this.options.secret, maxTokenLength: this.options.maxTokenLength });
    } catch (error) {
      return error instanceof TokenError ? error.reason : 'invalid token';
    }
  }

  private acceptViewer(ws: WebSocket, logger: Logger): void {
    const viewer: Viewer = { ws, selected: null, fresh: true, drain: undefined };
    this.viewers.add(viewer);
    ws.once('close', () => {
      this.viewers.delete(viewer);
      clearTimeout(viewer.drain);
    });
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      let message: ViewerMessage | undefined;
      try {
        if (!isBinary) message = JSON.parse(String(data)) as ViewerMessage;
      } catch {
        // Not JSON: refused below.
      }
      if (message === undefined) {
        ws.close(CloseCode.PolicyViolation, 'expected a JSON text message');
        return;
      }
      this.viewerAsked(viewer, message).catch((error: unknown) => {
        logger.error({ err: error }, 'console request failed');
        ws.close(CloseCode.InternalError, 'console request failed');
      });
    });
    // Its whole state comes with the next push, so that every delta after it applies.
    this.schedule(true);
  }

  private async viewerAsked(viewer: Viewer, message: ViewerMessage): Promise<void> {
    if (message?.type === 'select') {
      viewer.selected = typeof message.participantId === 'string' ? message.participantId : null;
      if (viewer.selected !== null && !viewer.fresh) this.send(viewer, { type: 'log', participantId: viewer.selected, entries: this.tracker.log(viewer.selected), reset: true });
    } else if (message?.type === 'diagram' && MACHINE_NAMES.includes(message.machine)) {
      this.send(viewer, { type: 'diagram', machine: message.machine, svg: await this.diagram(message.machine) });
    }
  }

  private acceptInspector(ws: WebSocket, identity: string): void {
    const id = this.clients.add(identity);
    // Everything it sent goes when it does, closed by either side.
    const forget = () => this.clients.remove(id);
    ws.once('close', forget);
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      try {
        if (isBinary) throw new RoomStateError(RoomStateErrorCode.Validation, 'invalid inspection message: expected JSON text messages');
        this.clients.receive(id, parseInspectMessage(String(data)));
      } catch (error) {
        forget();
        // Close reasons are limited to 123 bytes.
        ws.close(CloseCode.PolicyViolation, Buffer.from((error as Error).message).subarray(0, 120).toString());
      }
    });
  }

  private diagram(machine: string): Promise<string> {
    let svg = this.diagrams.get(machine);
    if (svg === undefined) {
      // ELK is large: loaded on the first diagram asked for, not with every server.
      svg = import('../../diagram/index.js').then(async ({ layoutStatechart, toSvg }) => toSvg(await layoutStatechart(machineStatechart(machine)!)));
      this.diagrams.set(machine, svg);
    }
    return svg;
  }

  private state(): FeedMessage {
    return { type: 'state', rooms: this.tracker.rooms(), clients: this.clients.views() };
  }

  /** Pushes what changed within {@link PUSH_DELAY_MS}; `force` pushes even when nothing did (a new viewer waits). */
  private schedule(force = false): void {
    if (this.pending !== undefined || this.viewers.size === 0 || (this.changes.empty && !force)) return;
    this.pending = setTimeout(() => this.push(), PUSH_DELAY_MS);
  }

  private push(): void {
    this.pending = undefined;
    // One encoding for every viewer; taken even without viewers, so that marks never pile up.
    const delta = this.changes.empty ? undefined : JSON.stringify(this.changes.take());
    let state: string | undefined;
    for (const viewer of this.viewers) {
      if (viewer.fresh) {
        viewer.fresh = false;
        state ??= JSON.stringify(this.state());
        this.send(viewer, state);
        if (viewer.selected !== null) this.send(viewer, { type: 'log', participantId: viewer.selected, entries: this.tracker.log(viewer.selected), reset: true });
      } else if (delta !== undefined) this.send(viewer, delta);
    }
  }

  private send(viewer: Viewer, message: FeedMessage | string): void {
    const { ws } = viewer;
    if (ws.readyState !== ws.OPEN) return;
    ws.send(typeof message === 'string' ? message : JSON.stringify(message));
    if (ws.bufferedAmount > MAX_VIEWER_BACKLOG && viewer.drain === undefined) this.watchDrain(viewer, ws.bufferedAmount);
  }

  /**
   * Over the backlog: like a participant, the viewer gets
   * `slowConsumerTimeoutMs` to make progress, and is cut with 1008 if its
   * backlog did not shrink. Deltas are never skipped, so a cut viewer
   * reconnects and starts again from a whole state.
   */
  private watchDrain(viewer: Viewer, mark: number): void {
    if (!Number.isFinite(this.options.slowConsumerTimeoutMs)) return;
    viewer.drain = setTimeout(() => {
      viewer.drain = undefined;
      const { ws } = viewer;
      if (ws.readyState !== ws.OPEN || ws.bufferedAmount <= MAX_VIEWER_BACKLOG) return;
      if (ws.bufferedAmount < mark) return this.watchDrain(viewer, ws.bufferedAmount);
      this.viewers.delete(viewer);
      this.options.slowConsumerCut?.();
      ws.close(CloseCode.PolicyViolation, CloseReason.SlowConsumer);
      // A peer that does not read does not answer the close either.
      setTimeout(() => ws.terminate(), 1000).unref();
    }, this.options.slowConsumerTimeoutMs);
    viewer.drain.unref();
  }
}
