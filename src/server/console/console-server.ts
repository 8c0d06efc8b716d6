/**
 * The live console of a room server (`createRoomServer({ console: true })`):
 * the page at `/console`, the viewer feed (`/console/feed`, a websocket that
 * pushes rooms, participants, their session state and event logs, and the
 * inspected clients' actors), and the inspector endpoint (`/console/inspect`)
 * that `consoleInspector` sends client inspection events to. Every data path
 * needs an admin token; nothing here acts in a room.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { TokenError, verifyAdminToken, type AdminScope } from '../../auth/token.js';
import { MACHINE_NAMES, machineStatechart } from '../../diagram/machines.js';
import type { ServerObserver } from '../core/observer.js';
import type { HttpRoute } from '../http-routes.js';
import { pathOf, refuseUpgrade } from '../upgrade.js';
import { CloseCode } from '../../protocol/close-codes.js';
import { sendJson, servePageAsset } from './console-page.js';
import { CONSOLE_FEED_PATH, CONSOLE_INSPECT_PATH, CONSOLE_TOKEN_PROTOCOL, type FeedMessage, type ViewerMessage } from '../../console/feed-protocol.js';
import { InspectedClients, parseInspectMessage } from './inspected-clients.js';
import { ParticipantTracker } from './participant-tracker.js';

/** What the console needs from its server. */
export interface ConsoleServerOptions {
  readonly secret: string;
  readonly maxTokenLength: number;
  readonly logger: Logger;
  /** This server's cluster node id, shown beside its participants; null when not clustered. */
  readonly node?: () => string | null;
}

/** Longest viewer or inspector message. */
const MAX_MESSAGE_BYTES = 64 * 1024;
/** Bytes queued to a viewer beyond which state pushes skip it. */
const MAX_VIEWER_BACKLOG = 1024 * 1024;
/** State pushes are coalesced over this many ms. */
const PUSH_DELAY_MS = 50;

interface Viewer {
  readonly ws: WebSocket;
  selected: string | null;
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
  private readonly clients = new InspectedClients(() => this.schedule());
  private readonly viewers = new Set<Viewer>();
  private readonly sockets = new Set<WebSocket>();
  private readonly diagrams = new Map<string, Promise<string>>();
  private readonly wss: WebSocketServer;
  private readonly ticker: NodeJS.Timeout;
  private pending: NodeJS.Timeout | undefined;

  /** The observer the server core reports to. */
  readonly observer: Partial<ServerObserver>;

  constructor(private readonly options: ConsoleServerOptions) {
    this.tracker = new ParticipantTracker(Date.now, options.node);
    this.observer = this.tracker.observer;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: MAX_MESSAGE_BYTES,
      handleProtocols: (protocols) => [...protocols].find((p) => p.startsWith(CONSOLE_TOKEN_PROTOCOL)) ?? false,
    });
    this.tracker.subscribe((change) => {
      if (change.kind === 'changed') return this.schedule();
      for (const viewer of this.viewers) {
        if (viewer.selected === change.participantId) this.send(viewer, { type: 'log', participantId: change.participantId, entries: [change.entry], reset: false });
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
    if (path !== '/console/api/whoami') return false;
    const admin = await this.authorize(tokenOf(request), 'console');
    if (typeof admin === 'string') sendJson(response, 403, { error: admin });
    else sendJson(response, 200, admin);
    return true;
  }

  /** The console's entry in the server's HTTP route table: `/console` and below. */
  readonly route: HttpRoute = {
    matches: (path) => path === '/console' || path.startsWith('/console/'),
    handle: async (request, response, head) => {
      if (!(await this.handleRequest(pathOf(request), request, response))) sendJson(response, 404, { error: 'not found' }, head);
    },
  };

  /** Whether an upgrade to `path` is the console's. */
  ownsUpgrade(path: string): boolean {
    return path === CONSOLE_FEED_PATH || path === CONSOLE_INSPECT_PATH;
  }

  /** Authenticates and accepts a viewer or inspector websocket. */
  async handleUpgrade(path: string, request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const admin = await this.authorize(tokenOf(request), path === CONSOLE_FEED_PATH ? 'console' : 'inspect');
    if (typeof admin === 'string') {
      this.options.logger.warn({ path, reason: admin }, 'console upgrade refused');
      refuseUpgrade(socket, { status: 403, reason: admin });
      return;
    }
    if (socket.destroyed) return;
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      this.sockets.add(ws);
      ws.once('close', () => this.sockets.delete(ws));
      this.options.logger.info({ path, admin: admin.name }, 'console connection');
      if (path === CONSOLE_FEED_PATH) this.acceptViewer(ws);
      else this.acceptInspector(ws);
    });
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

  private acceptViewer(ws: WebSocket): void {
    const viewer: Viewer = { ws, selected: null };
    this.viewers.add(viewer);
    ws.once('close', () => this.viewers.delete(viewer));
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      let message: ViewerMessage;
      try {
        if (isBinary) throw new Error('binary');
        message = JSON.parse(String(data)) as ViewerMessage;
      } catch {
        ws.close(CloseCode.PolicyViolation, 'expected a JSON text message');
        return;
      }
      this.viewerAsked(viewer, message).catch((error: unknown) => {
        this.options.logger.error({ err: error }, 'console request failed');
        ws.close(CloseCode.InternalError, 'console request failed');
      });
    });
    this.send(viewer, this.state());
  }

  private async viewerAsked(viewer: Viewer, message: ViewerMessage): Promise<void> {
    if (message?.type === 'select') {
      viewer.selected = typeof message.participantId === 'string' ? message.participantId : null;
      if (viewer.selected !== null) this.send(viewer, { type: 'log', participantId: viewer.selected, entries: this.tracker.log(viewer.selected), reset: true });
    } else if (message?.type === 'diagram' && MACHINE_NAMES.includes(message.machine)) {
      this.send(viewer, { type: 'diagram', machine: message.machine, svg: await this.diagram(message.machine) });
    }
  }

  private acceptInspector(ws: WebSocket): void {
    const id = this.clients.add();
    ws.once('close', () => this.clients.remove(id));
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      try {
        if (isBinary) throw new Error('expected JSON text messages');
        this.clients.receive(id, parseInspectMessage(String(data)));
      } catch (error) {
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

  private schedule(): void {
    if (this.pending !== undefined || this.viewers.size === 0) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      const state = JSON.stringify(this.state());
      for (const viewer of this.viewers) {
        // The next state replaces this one: a viewer that is behind skips it.
        if (viewer.ws.bufferedAmount < MAX_VIEWER_BACKLOG) this.send(viewer, state);
      }
    }, PUSH_DELAY_MS);
  }

  private send(viewer: Viewer, message: FeedMessage | string): void {
    if (viewer.ws.readyState === viewer.ws.OPEN) viewer.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }
}
