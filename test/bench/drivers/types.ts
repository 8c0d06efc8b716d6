/**
 * What a workload needs from a client library: connect to a room, enable
 * messaging (with presence), send, broadcast, receive. One implementation per
 * client kind keeps the workloads identical across servers.
 */

/** The JSON body every benchmark message carries. */
export interface BenchBody {
  /** Sequence number within the sender's stream. */
  readonly s: number;
  /** Send time on the shared clock ({@link now}), in milliseconds. */
  readonly t: number;
  /** Padding up to the wanted body size. */
  readonly p: string;
}

/** A message as a workload sees it. */
export interface ReceivedMessage {
  readonly from: string;
  readonly body: BenchBody;
  /** Length of the attachment, 0 for none. */
  readonly attachmentBytes: number;
}

/** One participant's connection. */
export interface BenchPeer {
  /** The id other participants address this one by. */
  readonly id: string;
  /** Enables messaging; resolves once the initial presence list is known. */
  enable(): Promise<void>;
  /**
   * Sends a direct message. Resolves on the server's acknowledgement where
   * the protocol has one; returns `undefined` where it has none.
   */
  send(to: string, body: BenchBody, attachment?: Uint8Array): Promise<void> | undefined;
  /** Broadcasts to the other enabled participants; acknowledgement as for `send`. */
  broadcast(body: BenchBody): Promise<void> | undefined;
  /**
   * Sends `set_attributes` (no acknowledgement), where the client has it;
   * returns the bytes queued for the socket, so a loop can wait for them to drain.
   */
  setAttributes?(attributes: Record<string, unknown>): number;
  /** Called for every `participant.attributes` push, where the client reports them. */
  onAttributes?: (() => void) | undefined;
  /** Number of other enabled participants this peer knows of. */
  presenceSize(): number;
  /** Called for every user message received. */
  onMessage: ((message: ReceivedMessage) => void) | undefined;
  /** Called whenever the presence view changes. */
  onPresence: (() => void) | undefined;
  /**
   * Called once if the connection ends without {@link BenchPeer.close} (the
   * server closed or dropped it), with its close code and reason, where the
   * driver reports it: a workload waiting on this peer then fails at once,
   * saying why, instead of waiting out its deadline.
   */
  onClose?: ((why: string) => void) | undefined;
  /** Once the connection has ended without {@link BenchPeer.close}: how (see {@link BenchPeer.onClose}). */
  readonly closedWith?: string | undefined;
  /** Closes the connection. */
  close(): Promise<void>;
}

/** A client library adapted for the workloads. */
export interface BenchDriver {
  /** Whether sends resolve on a server acknowledgement. */
  readonly acknowledged: boolean;
  /** Connects a participant (not yet enabled). */
  connect(room: string, name: string): Promise<BenchPeer>;
}

const origin = performance.timeOrigin;

/**
 * The clock every process shares: wall-clock anchored, monotonic within a
 * process, sub-microsecond resolution. Used for send timestamps so latency can
 * be measured by a receiver in another process on the same machine.
 */
export function now(): number {
  return origin + performance.now();
}

/** The message type used for benchmark messages. */
export const BENCH_MESSAGE_TYPE = 'bench';

/** Padding that makes `{s, t, p}` about `bodyBytes` long once serialised. */
export function paddingFor(bodyBytes: number): string {
  const probe = JSON.stringify({ s: 1_000_000, t: now(), p: '' }).length;
  return 'x'.repeat(Math.max(0, bodyBytes - probe));
}

/** Closes a websocket (with `code` if given) and resolves once it is closed. */
export function closeSocket(ws: import('ws').WebSocket, code?: number): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) return resolve();
    ws.once('close', () => resolve());
    ws.close(code);
  });
}
