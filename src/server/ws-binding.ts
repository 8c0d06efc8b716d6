/**
 * The thin binding of the server core to `ws`: one {@link WsConnection} per
 * socket batches its outgoing frames into one socket write per event-loop
 * turn (earlier once a batch passes {@link EARLY_FLUSH_BYTES}), watches the
 * outgoing buffer, and feeds incoming frames to the session.
 *
 * The batch is the corked net.Socket itself: each message's buffer is handed
 * to it as it is (a push fanned out to a room is one buffer shared by every
 * recipient's queue, never a copy per recipient) and leaves in one `writev`
 * when the socket is uncorked after the turn's I/O.
 */
import type { Socket } from 'node:net';
import { WebSocket, type RawData } from 'ws';
import type { ParticipantConnection } from './core/context.js';
import type { ServerObserver } from './core/observer.js';
import { logText, type ConnectionLog } from './log-limiter.js';
import type { OutgoingMessage } from './core/outgoing-message.js';
import { TurnQueue } from './core/turn-queue.js';
import type { Clock, Timers } from './core/token-bucket.js';
import type { ParticipantSession } from './core/participant-session.js';
import { CloseCode, CloseReason } from '../protocol/close-codes.js';
import { canReadReceiver, receiverIdle, tcpSocketOf } from '../ws-internals.js';
import { drainMark, drainedSince } from './drain-progress.js';

/** Settings of a {@link WsConnection}: one object shared by every connection of a server. */
export interface WsConnectionOptions {
  /** `bufferedAmount` above which the peer must be draining (see `slowConsumerTimeoutMs`). */
  maxBufferedBytes: number;
  /** How long the peer may stay over `maxBufferedBytes` with no progress before it is dropped. */
  slowConsumerTimeoutMs: number;
  /**
   * Longest the peer may go, with bytes of a websocket frame (or of a
   * fragmented message) received, without completing one.
   */
  partialMessageTimeoutMs: number;
  /** Time a server-initiated close may take before the socket is terminated. */
  closeTimeoutMs: number;
  /** Told when a connection is cut as a slow consumer. */
  observer: ServerObserver;
  /** Millisecond clock the partial-frame timeout measures progress with (the core's). */
  clock: Clock;
  /** Timers of the partial-frame and slow-consumer timeouts (the core's: tests run them by hand). */
  timers: Timers;
  /** Called once when a connection's socket has closed (after its session heard it). */
  closed?: (connection: WsConnection) => void;
}

/** A connection's batch is written at once, without waiting for the end of the turn, once it holds this many bytes. */
export const EARLY_FLUSH_BYTES = 64 * 1024;

/**
 * Input a paused connection may read ahead at a heartbeat, looking for the
 * pong: frames read meanwhile are held, in order, as the pause wants.
 */
export const PROBE_READ_AHEAD_BYTES = 1024 * 1024;

/**
 * How long one turn's flush of batched writes may run before the rest
 * wait for the next turn: a presence push to a room of 10,000 makes every
 * member's socket due at once, and 10,000 write syscalls in one go held the
 * loop (reads, pongs, timers) for over half a second.
 */
export const WRITE_FLUSH_BUDGET_MS = 10;

/** Every connection with a batch to write, flushed once after the turn's I/O (within {@link WRITE_FLUSH_BUDGET_MS}). */
const batched = new TurnQueue<WsConnection>((connection) => connection.flush(), { budgetMs: WRITE_FLUSH_BUDGET_MS });

/** Whether the operator was told that this ws hides what the binding reads (once a process). */
let internalsWarned = false;

/**
 * A consumer over `maxBufferedBytes` whose buffer grows although the kernel
 * keeps taking its bytes (it reads, slower than the room adds) is kept up to
 * this many times `maxBufferedBytes`; beyond, only a shrinking buffer keeps it.
 */
export const SLOW_READER_CEILING = 4;

/** Logs once when the installed ws no longer exposes what src/ws-internals.ts reads: the binding then falls back, slower or with a check off. */
function checkWsInternals(ws: WebSocket, socket: Socket | undefined, logger: ConnectionLog): void {
  if (internalsWarned || (socket !== undefined && canReadReceiver(ws))) return;
  internalsWarned = true;
  logger.warn(
    { netSocket: socket !== undefined, receiver: canReadReceiver(ws) },
    'ws hides its net.Socket or its frame parser (a ws release other than the pinned one?): writes go through ws.send and half-sent frames are not timed out; see src/ws-internals.ts',
  );
}

/**
 * The connection of each websocket and of its net.Socket. The listeners below
 * are shared by every connection (a closure per listener per connection was
 * a tenth of an idle participant's heap); they find their connection here.
 */
const connections = new WeakMap<object, WsConnection>();

function onPong(this: WebSocket, data: Buffer): void {
  connections.get(this)?.pong(data);
}

function onPing(this: WebSocket): void {
  connections.get(this)?.pinged();
}

function onData(this: Socket): void {
  connections.get(this)?.dataRead();
}

function onChunk(this: Socket): void {
  connections.get(this)?.chunkArrived();
}

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  connections.get(this)?.message(data, isBinary);
}

function onClose(this: WebSocket, code: number, reason: Buffer): void {
  connections.get(this)?.closed(code, reason);
}

function onError(this: WebSocket, error: Error): void {
  connections.get(this)?.errored(error);
}

/** A websocket as the core's {@link ParticipantConnection}. */
export class WsConnection implements ParticipantConnection {
  /** Set by pongs; cleared by each heartbeat ping. */
  private alive = true;
  /** {@link drainMark} at the last heartbeat. */
  private beatMark: number | undefined;
  /** The session fed by this connection, once joined. */
  session: ParticipantSession | undefined;
  /** The session's sent count when the last heartbeat ping was written (resumable sessions only). */
  private pingMark: number | undefined;
  /** Whether the socket is corked: this turn's messages are queued in it, unwritten. */
  private corked = false;
  /** Bytes queued in the corked socket this turn. */
  private batchBytes = 0;
  private muted = false;
  /** Whether the session wants reading paused (rate or fairness). */
  private pauseWanted = false;
  /** Bytes a heartbeat probe may still read from a paused peer; 0 when not probing. */
  private probeBudget = 0;
  private closeTimer: NodeJS.Timeout | undefined;
  private drainTimer: unknown;
  /** `bufferedAmount` when the drain timer was armed. */
  private drainBuffered = 0;
  /** {@link drainMark} when the drain timer was armed. */
  private drainTaken: number | undefined;
  /** Armed only while ws holds an incomplete frame or fragmented message. */
  private partialTimer: unknown;
  /** The clock's time when the socket read being parsed arrived: the arrival of every frame ws emits from it. */
  private chunkAt: number | undefined;
  /** The clock's time of the last complete frame (message, ping, pong), of an incomplete one's start, or of a resume. */
  private progressAt: number;
  private readonly socket: Socket | undefined;
  /**
   * Whether messages go to the net.Socket as pre-framed bytes. Safe when no
   * extension (permessage-deflate) was negotiated: ws's Sender then writes
   * every frame it makes (pings, pongs, close, and anything sent with
   * `ws.send`) synchronously to the same socket, never queueing (it queues
   * only while compressing or reading a Blob, and this binding sends neither),
   * so our whole-frame writes interleave with its frames in call order. With
   * an extension the Sender may queue behind compression, so we go through it.
   */
  private readonly direct: boolean;

  constructor(
    readonly ws: WebSocket,
    private readonly options: WsConnectionOptions,
    /** This connection's log (room and participant on every line). */
    readonly log: ConnectionLog,
  ) {
    this.progressAt = options.clock();
    // ws keeps the net.Socket private; writing to it is what makes one write per tick.
    this.socket = tcpSocketOf(ws);
    this.direct = this.socket !== undefined && ws.extensions === '';
    checkWsInternals(ws, this.socket, log);
    connections.set(ws, this);
    ws.on('pong', onPong);
    ws.on('ping', onPing);
    // Added after ws's own listener: ws has parsed the chunk (and emitted its
    // complete messages) when this runs. Only an incomplete tail arms a timer.
    if (this.socket !== undefined) {
      connections.set(this.socket, this);
      // Before ws's listener: one clock read per socket read stamps the frames ws emits from it (synchronously, its default).
      this.socket.prependListener('data', onChunk);
      this.socket.on('data', onData);
    }
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.on('error', onError);
  }

  /** A pong: the peer is alive, and the answer to the heartbeat's ping acknowledges what was written before it. */
  pong(data: Buffer): void {
    this.alive = true;
    // The answer to the heartbeat's ping (it echoes the mark; an unsolicited pong does not):
    // everything written before that ping has been read by the peer.
    if (this.pingMark !== undefined && data.toString('latin1') === String(this.pingMark)) {
      this.session?.acknowledge(this.pingMark);
      this.pingMark = undefined;
    }
    this.progressAt = this.options.clock();
    if (this.probeBudget > 0) this.endProbe();
  }

  /** The peer pinged: it makes progress. */
  pinged(): void {
    this.progressAt = this.options.clock();
  }

  /** A socket read arrived, about to be parsed by ws. */
  chunkArrived(): void {
    this.chunkAt = this.options.clock();
  }

  /** Bytes arrived on the socket and ws parsed them: only an incomplete tail arms the partial-frame timer. */
  dataRead(): void {
    if (this.partialTimer !== undefined || receiverIdle(this.ws)) return;
    this.progressAt = this.options.clock();
    this.watchPartial(this.options.partialMessageTimeoutMs);
  }

  /** A complete websocket message, fed to the session. */
  message(data: RawData, isBinary: boolean): void {
    // Only the partial-frame timer reads it, and arming that timer sets it first.
    if (this.partialTimer !== undefined) this.progressAt = this.options.clock();
    if (this.probeBudget > 0) {
      this.probeBudget -= (data as Buffer).byteLength;
      if (this.probeBudget <= 0) this.endProbe();
    }
    const session = this.session;
    if (session === undefined) return;
    try {
      if (isBinary) session.receive(data as Buffer, this.chunkAt);
      else session.receiveText();
    } catch (error) {
      this.failed(error);
    }
  }

  /** The socket closed: timers go, the session hears it. */
  closed(code: number, reason: Buffer): void {
    this.corked = false;
    this.batchBytes = 0;
    batched.delete(this);
    if (this.closeTimer) clearTimeout(this.closeTimer);
    if (this.drainTimer !== undefined) this.options.timers.clearTimeout(this.drainTimer);
    if (this.partialTimer !== undefined) this.options.timers.clearTimeout(this.partialTimer);
    this.log.info({ code, reason: logText(reason.toString()) }, 'connection closed');
    try {
      this.session?.connectionClosed(this, code);
    } catch (error) {
      this.log.error({ err: error }, 'leaving the room failed');
    }
    this.options.closed?.(this);
  }

  /** A socket error (the close follows). */
  errored(error: Error): void {
    this.log.warn({ err: error }, 'connection error');
  }

  send(message: OutgoingMessage): void {
    const ws = this.ws;
    // CLOSING included: after ws.close() the Sender has written the close frame.
    if (this.muted || ws.readyState !== WebSocket.OPEN) return;
    if (!this.direct) {
      const packets = message.packets;
      for (let i = 0; i < packets.length; i++) ws.send(packets[i]);
      return;
    }
    const wire = message.wire;
    const socket = this.socket!;
    if (wire.length >= EARLY_FLUSH_BYTES) {
      // A big message (a snapshot) goes at once, after what was batched before it.
      this.flush();
      socket.write(wire);
      this.checkBuffer();
      return;
    }
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      batched.add(this);
    }
    socket.write(wire);
    this.batchBytes += wire.length;
    if (this.batchBytes >= EARLY_FLUSH_BYTES) this.flush();
  }

  /**
   * Uncorks the socket, so the turn's batch leaves in one write, and checks
   * the outgoing buffer. Safe to interleave with ws's own frames (pings,
   * pongs, close), which queue behind the batch in call order: every message
   * in a batch is whole frames.
   */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    this.batchBytes = 0;
    batched.delete(this);
    // bufferedAmount counts it (ws reports the socket's writable length plus its own queue).
    this.socket!.uncork();
    this.checkBuffer();
  }

  private checkBuffer(): void {
    if (this.drainTimer === undefined && this.ws.readyState === WebSocket.OPEN && this.ws.bufferedAmount > this.options.maxBufferedBytes) {
      this.watchDrain();
    }
  }

  /**
   * Over the buffer limit: the peer gets `slowConsumerTimeoutMs` to make
   * progress. A reader draining a large burst is watched again: its buffer
   * shrank, or the kernel took more of it (the buffer may not shrink while
   * the room keeps adding to it). One that did neither is not reading and is dropped.
   */
  private watchDrain(): void {
    if (!Number.isFinite(this.options.slowConsumerTimeoutMs)) return;
    this.drainBuffered = this.ws.bufferedAmount;
    this.drainTaken = drainMark(this.socket);
    this.drainTimer = this.options.timers.setTimeout(() => {
      this.drainTimer = undefined;
      const buffered = this.ws.bufferedAmount;
      if (this.ws.readyState !== WebSocket.OPEN || buffered <= this.options.maxBufferedBytes) return;
      // Reading but falling behind is spared only up to a ceiling, so a peer that reads a byte a window cannot pin unbounded memory.
      const reading = drainedSince(this.socket, this.drainTaken) && buffered <= this.options.maxBufferedBytes * SLOW_READER_CEILING;
      if (buffered < this.drainBuffered || reading) {
        this.watchDrain();
        return;
      }
      this.log.warn({ bufferedAmount: buffered }, 'dropping slow consumer');
      this.options.observer.slowConsumerCut();
      if (this.session) this.session.kick(CloseCode.PolicyViolation, CloseReason.SlowConsumer);
      else this.close(CloseCode.PolicyViolation, CloseReason.SlowConsumer);
    }, this.options.slowConsumerTimeoutMs);
  }

  /**
   * ws holds part of a frame: the peer has `partialMessageTimeoutMs` from its
   * last complete frame to finish one, or it is closed with 1008 like a
   * stalled multi-packet message. Time spent paused by the rate limits is
   * the server's doing and does not count.
   */
  private watchPartial(delay: number): void {
    const limit = this.options.partialMessageTimeoutMs;
    if (!Number.isFinite(limit)) return;
    this.partialTimer = this.options.timers.setTimeout(() => {
      this.partialTimer = undefined;
      if (this.ws.readyState !== WebSocket.OPEN || receiverIdle(this.ws)) return;
      const idle = this.options.clock() - this.progressAt;
      if (this.ws.isPaused || idle < limit) {
        this.watchPartial(this.ws.isPaused ? limit : limit - idle);
        return;
      }
      this.log.warn({ idleMs: Math.round(idle) }, 'dropping a partial websocket frame');
      if (this.session) this.session.kick(CloseCode.PolicyViolation, CloseReason.PartialMessageTimeout);
      else this.close(CloseCode.PolicyViolation, CloseReason.PartialMessageTimeout);
    }, delay);
  }

  /**
   * An exception escaped the core while it handled this connection's input:
   * a bug, never the peer's fault alone. It costs this connection only
   * (closed with 1011), never the process or the room.
   */
  private failed(error: unknown): void {
    this.log.error({ err: error }, 'handling a frame failed; closing the connection');
    try {
      if (this.session) this.session.kick(CloseCode.InternalError, CloseReason.InternalError);
      else this.close(CloseCode.InternalError, CloseReason.InternalError);
    } catch {
      this.terminate();
    }
  }

  /** True while the session wants reading paused (rate limits, or a congested loop). */
  get paused(): boolean {
    return this.pauseWanted;
  }

  pause(): void {
    this.pauseWanted = true;
    if (this.probeBudget === 0) this.ws.pause();
  }

  resume(): void {
    this.pauseWanted = false;
    this.probeBudget = 0;
    this.progressAt = this.options.clock();
    this.ws.resume();
  }

  /**
   * One heartbeat; false when the peer is to be terminated. A peer that
   * answered the previous ping is pinged again. One that did not is spared
   * while it reads, only behind: the kernel refused bytes of its socket at
   * the previous beat and has taken more since (see drain-progress.ts). Its
   * ping is still queued behind those bytes, so it is not pinged again. A
   * peer that neither answered nor read since the previous beat is dead or
   * stuck: gone within two beats of when it stopped, paused or not.
   */
  heartbeat(): boolean {
    const spared = !this.alive && drainedSince(this.socket, this.beatMark);
    this.beatMark = drainMark(this.socket);
    if (!this.alive && !spared) return false;
    if (!spared) {
      this.alive = false;
      this.ping();
    }
    // A paused connection reads ahead (bounded) so that a live peer's pong gets through.
    this.probe();
    return true;
  }

  /**
   * Writes a heartbeat ping (behind this turn's batch). A resumable session's
   * ping carries its sent count, which the pong echoes: the pong then vouches
   * for every message written before it.
   */
  private ping(): void {
    this.pingMark = this.session?.sentCount;
    if (this.pingMark === undefined) this.ws.ping();
    else this.ws.ping(String(this.pingMark));
  }

  /**
   * Lets the heartbeat's pong of a paused peer through: reads ahead up to
   * {@link PROBE_READ_AHEAD_BYTES} (the session holds what arrives, in
   * order) until the pong arrives, then pauses again. A peer that stopped
   * reading never pongs, paused or not, and misses the next heartbeat; so
   * does one whose pong is stuck behind more of its own unread input than
   * that, which has sent beyond its rate for a whole heartbeat interval.
   */
  private probe(): void {
    if (!this.pauseWanted || this.probeBudget > 0) return;
    this.probeBudget = PROBE_READ_AHEAD_BYTES;
    this.ws.resume();
  }

  private endProbe(): void {
    this.probeBudget = 0;
    if (this.pauseWanted) this.ws.pause();
  }

  /** Drops every later frame (shutdown: nobody needs presence news any more). */
  mute(): void {
    this.muted = true;
  }

  close(code: number, reason: string): void {
    const ws = this.ws;
    if (ws.readyState === WebSocket.CLOSED) return;
    if (ws.readyState === WebSocket.OPEN) {
      // What was batched goes before the close frame.
      this.flush();
      ws.close(code, reason);
    }
    // A peer that does not read never completes the close handshake.
    if (this.closeTimer === undefined) {
      this.closeTimer = setTimeout(() => ws.terminate(), this.options.closeTimeoutMs);
      this.closeTimer.unref();
    }
  }

  /** Drops the peer at once (heartbeat timeout, shutdown deadline). */
  terminate(): void {
    this.ws.terminate();
  }
}
