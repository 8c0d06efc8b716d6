/**
 * One participant connection inside the core: its identity, attributes,
 * frame reassembly, rate limits, its place in the server's fair scheduler
 * and its lifecycle actor. Knows nothing of `ws`.
 */
import { PacketReassembler, ErrorCode, MessagingControlType, MessageType, type MessageId } from '../../protocol/index.js';
import { CloseCode, CloseReason } from '../../protocol/close-codes.js';
import { connectedHeader, roomReadyHeader } from '../../protocol/handshake.js';
import { RESUME_FIELD, ResumeRefusal, resumeAnswerField, type ResumeAnswer } from '../../protocol/resume.js';
import { participantAttributesBodyJson, participantDisabledBodyJson, participantEnabledBodyJson } from '../../protocol/presence.js';
import type { MessagingPermissions, VerifiedToken } from '../../auth/token.js';
import type { CoreContext, ParticipantConnection } from './context.js';
import { noopObserver } from './observer.js';
import { messagingPrefix } from './frame-encoder.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { Room } from './room-directory.js';
import type { PresenceChange, RoomMember } from './room-member.js';
import type { Flow, Schedulable } from './fair-scheduler.js';
import { InboundThrottle } from './inbound-throttle.js';
import { SessionLifecycle } from './session-lifecycle.js';
import { handleMessage } from './request-handler.js';
import { RecoveryBuffer } from './recovery.js';
import type { ResumableSessions } from './resumable-sessions.js';
import type { JournaledSession, RestoredSession, SessionJournal, SessionJournals } from './session-journal.js';
import type { LifecycleEvent, RequestScope, StreamRelay } from './request-scope.js';
import type { ParticipantSessionEmitted } from '../../../machines/participant-session.js';

/** Longest delay a Node timer takes (about 24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Reasons to stop reading, as bits: both may hold at once, and reading resumes when neither does. */
const PAUSED_FOR_RATE = 1;
const PAUSED_FOR_FAIRNESS = 2;

/** What a session is created from. */
export interface SessionInit {
  readonly id: string;
  readonly sessionId: string;
  readonly roomName: string;
  readonly roomUrl: string;
  readonly token: VerifiedToken;
  readonly connection: ParticipantConnection;
  /** The node's messaging stream relay. */
  readonly streams: StreamRelay;
  /** Called once when the session ends. */
  readonly onClosed?: () => void;
  /**
   * Set when the client asked for a resume key (docs/PROTOCOL.md#extension-resumable-participants):
   * the session's key, the node's registry, and why a resume the client asked for was refused;
   * in a cluster, the node's journals, and what a session taken over from a dead node resumes from.
   */
  readonly resume?: {
    readonly key: string;
    readonly sessions: ResumableSessions<ParticipantSession>;
    readonly refusal?: ResumeRefusal;
    readonly journals?: SessionJournals;
    readonly restored?: RestoredSession;
  };
}

/** A participant's server-side session; also its {@link RoomMember} entry. */
export class ParticipantSession implements RoomMember, RequestScope, Schedulable, JournaledSession {
  /** Participant id, fresh per connection. */
  readonly id: string;
  /** Role from the token's grants. */
  readonly role: string;
  /** The token's `name` claim. */
  readonly name: string;
  /** `api.messaging` permissions, or undefined when the grant is absent. */
  readonly messaging: MessagingPermissions | undefined;
  /** Header prefix of `messaging.send` pushes from this participant. */
  readonly prefix: string;
  /** The merged attribute map. */
  attributes: Record<string, unknown>;
  /** The room, once joined. */
  room!: Room;
  /** This identity's share of the server's handling time. */
  readonly flow: Flow;
  /** The node's messaging stream relay. */
  readonly streams: StreamRelay;

  /** The connection written to: replaced when a resumable session is resumed. */
  private connection: ParticipantConnection;
  /** Sent messages held for a resume; undefined for sessions that did not ask for one (they pay nothing). */
  private readonly recovery: RecoveryBuffer | undefined;
  /** The recovery buffer's copy outside the process (a cluster's Redis); undefined on a single node. */
  private readonly journal: SessionJournal | undefined;
  /** With a journal: messages up to this sequence are in it, and only those may be written to the client. */
  private durable = 0;
  /** Another node took this session over: it ends here without announcing anything. */
  private fenced = false;
  /** Why the session ended, for a resume that comes too late. */
  private ending: ResumeRefusal = ResumeRefusal.Unknown;
  private readonly reassembler: PacketReassembler;
  /** The per-participant message and byte rates; undefined when both are off (nothing to count). */
  private readonly throttle: InboundThrottle | undefined;
  /** Where the session is in the `participant-session` machine. */
  private readonly lifecycleState: SessionLifecycle;
  private protocolErrors = 0;
  private open = true;
  private expiryTimer: unknown;
  private partialTimer: unknown;
  /** Frames waiting for the scheduler (the loop is congested), oldest first. */
  private held: Uint8Array[] = [];
  /** {@link PAUSED_FOR_RATE} and {@link PAUSED_FOR_FAIRNESS} bits. */
  private pauses = 0;
  /** Attribute changes the actor has not been told of yet: merged, and handed to it once at the end of the turn. */
  private pendingAttributes: Record<string, unknown> | undefined;
  private readonly handleBound = (frame: Uint8Array): boolean => this.handleFrame(frame);
  /** Clock time of the last frame that arrived. */
  private lastFrameAt = 0;
  /** Clock time reading last resumed after a pause of this server's (rate or fairness). */
  private resumedAt = 0;
  /** True while {@link ParticipantSession.receive} passes a frame on (not when the throttle releases held ones later). */
  private receiving = false;

  /** What the session starts from, let go once it has started (the token's claims are not kept per session). */
  private init: SessionInit | undefined;
  /** The resume key and registry of a session that asked for one. */
  private readonly resume: SessionInit['resume'];
  private readonly onClosed: (() => void) | undefined;

  constructor(
    readonly context: CoreContext,
    init: SessionInit,
  ) {
    const { limits } = context;
    this.id = init.id;
    this.role = init.token.role;
    this.name = init.token.name;
    this.messaging = init.token.messaging;
    this.prefix = messagingPrefix(init.id);
    this.streams = init.streams;
    const restored = init.resume?.restored;
    this.attributes = restored?.attributes ?? { name: init.token.name };
    this.connection = init.connection;
    this.init = init;
    this.resume = init.resume;
    this.onClosed = init.onClosed;
    if (init.resume !== undefined) {
      this.recovery = new RecoveryBuffer(limits, restored);
      this.durable = restored?.received ?? 0;
      init.resume.sessions.add(init.resume.key, this);
      this.journal = init.resume.journals?.open(init.resume.key, init.roomName, this, restored !== undefined);
    }
    this.reassembler = new PacketReassembler({
      maxMessageBytes: limits.maxMessageBytes,
      maxTypeBytes: limits.maxTypeBytes,
      discardRejected: true,
    });
    this.flow = context.scheduler.flow(init.token.name);
    const rated = Number.isFinite(limits.messagesPerSecond) || Number.isFinite(limits.bytesPerSecond);
    this.throttle = !rated ? undefined : new InboundThrottle(limits, context.clock, context.timers, {
      handle: (frame) => this.schedule(frame),
      pause: () => {
        context.observer.rateLimited();
        this.pauseReading(PAUSED_FOR_RATE);
      },
      resume: () => this.resumeReading(PAUSED_FOR_RATE),
      failed: (error) => {
        context.logger.error({ err: error, participant: this.id }, 'handling a frame failed; closing the connection');
        this.kick(CloseCode.InternalError, CloseReason.InternalError);
      },
    });
    // Inspected only when someone listens (the console); lifecycle events only, never per message.
    const { observer } = context;
    this.lifecycleState = new SessionLifecycle(
      (emitted) => this.effect(emitted),
      observer.sessionTransition === noopObserver.sessionTransition ? undefined : (event, value) => observer.sessionTransition(this, event, value),
    );
  }

  /** Performs what the lifecycle machine emitted. */
  private effect(emitted: ParticipantSessionEmitted): void {
    switch (emitted.type) {
      case 'presence.snapshot':
        this.sendSnapshot();
        return;
      case 'presence.enabled':
        this.announceEnabled();
        return;
      case 'presence.disabled':
        if (!this.fenced) this.announceDisabled();
        return;
      case 'presence.attributes':
        this.announce('attributes', this.context.encoder.messaging(this.prefix, MessagingControlType.ParticipantAttributes, participantAttributesBodyJson(emitted.changed)));
        return;
      case 'session.ended':
        this.context.directory.leave(this.room, this);
        this.context.observer.participantLeft(this.room.name, this.id);
        return;
    }
  }

  /** Whether the connection is still open (not closed or being closed). */
  get isOpen(): boolean {
    return this.open;
  }

  /** Whether the session lost its connection and waits, within the recovery window, for its client to resume it. */
  get detached(): boolean {
    return this.recovery !== undefined && this.recovery.detached;
  }

  /** Whether messaging is enabled: the room's roster, the one record of presence, holds this session. */
  get enabled(): boolean {
    return this.room !== undefined && this.room.enabledMember(this.id) === this;
  }

  /** Starts the session in `room`: sends `room_ready` then `connected`. */
  start(room: Room): void {
    const init = this.init;
    if (init === undefined) return;
    this.init = undefined;
    this.room = room;
    const restored = init.resume?.restored;
    if (restored !== undefined) {
      this.restore(room, restored, init);
      return;
    }
    this.lifecycleState.start();
    this.context.observer.participantJoined(room.name, this.id);
    this.streams.attach(this);
    const resume = init.resume;
    // The handshake is not numbered: the recovery sequence starts after `connected`.
    this.sendHandshake(this.connection, resume === undefined ? undefined : { key: resume.key, ...(resume.refusal === undefined ? {} : { resumed: false, reason: resume.refusal }) }, init.sessionId, init.roomUrl);
    if (init.token.expiresAt !== undefined) this.armExpiry(init.token.expiresAt);
  }

  private sendHandshake(connection: ParticipantConnection, answer: ResumeAnswer | undefined, sessionId: string, roomUrl: string): void {
    if (!this.open) return;
    const { encoder } = this.context;
    const header = roomReadyHeader({ roomName: this.room.name, roomUrl, sessionId });
    if (answer !== undefined) header[RESUME_FIELD] = resumeAnswerField(answer);
    connection.send(encoder.push(MessageType.RoomReady, header));
    connection.send(encoder.push(MessageType.Connected, connectedHeader({ participantId: this.id, attributes: this.attributes })));
  }

  /**
   * Starts a session taken over from a node that died: the same participant,
   * in the presence state it was in, with nothing announced; its client gets
   * the resumed handshake, then what it missed.
   */
  private restore(room: Room, restored: RestoredSession, init: SessionInit): void {
    this.lifecycleState.restore(restored.enabled);
    this.context.observer.participantJoined(room.name, this.id);
    if (restored.enabled) this.context.observer.messagingEnabled(room.name, this.id);
    this.streams.attach(this);
    const resume = init.resume!;
    this.sendHandshake(this.connection, { key: resume.key, resumed: true, replayed: restored.replay.length, lastRequestId: restored.lastRequestId }, init.sessionId, init.roomUrl);
    for (const message of restored.replay) this.deliver(message);
    // Last: placing it lets the room's held relays through, and they come after what it missed.
    restored.place(this);
    if (init.token.expiresAt !== undefined) this.armExpiry(init.token.expiresAt);
    this.context.observer.participantResumed(room.name, this.id, restored.replay.length);
  }

  /** Whether the session asked for a resume key (a cluster keeps relays to it for a resume elsewhere). */
  get resumable(): boolean {
    return this.recovery !== undefined;
  }

  /** Highest request id the session handled; -1 before any (or without a resume key). */
  get lastRequestId(): number {
    return this.recovery?.lastRequestId ?? -1;
  }

  /** The journal holds messages up to `sequence`: those not yet written go to the client (when attached). */
  journaled(sequence: number): void {
    const from = this.durable;
    if (!this.open || sequence <= from) return;
    this.durable = sequence;
    if (this.recovery!.detached) return;
    for (const message of this.recovery!.range(from + 1, sequence)) this.connection.send(message);
  }

  /** Another node took this session over (this node was cut off and thought dead): it ends here quietly. */
  takenOver(): void {
    this.fenced = true;
    this.kick(CloseCode.Normal, CloseReason.Resumed);
  }

  /** How many messages this session has been sent (its recovery sequence); undefined without a resume key. */
  get sentCount(): number | undefined {
    // With a journal, only what is in it was written out: a heartbeat must not vouch for the rest.
    return this.journal === undefined ? this.recovery?.sentCount : this.durable;
  }

  /** The client has read the first `received` messages (a heartbeat's pong says so): the recovery buffer lets them go. */
  acknowledge(received: number): void {
    this.recovery?.acknowledge(received);
    this.journal?.acknowledge(received);
  }

  /** Delivers frames to this participant, unless its connection is closing; held for a resume when the session has a key. */
  deliver(message: OutgoingMessage): void {
    if (!this.open) return;
    const recovery = this.recovery;
    if (recovery === undefined) {
      this.connection.send(message);
      return;
    }
    if (this.ending === ResumeRefusal.Overflow) return;
    if (!recovery.push(message)) {
      // Not ended here: a fan-out may be iterating the room.
      this.ending = ResumeRefusal.Overflow;
      queueMicrotask(() => this.closed());
      return;
    }
    // With a journal, written once it is in there (see journaled()).
    if (this.journal !== undefined) this.journal.record(recovery.sentCount, message);
    else if (!recovery.detached) this.connection.send(message);
  }

  /**
   * The connection `connection` closed with `code`. A resumable session
   * whose connection dropped (1006: no close frame, as after a network cut
   * or a missed heartbeat) waits detached for a resume; any other ends (a
   * close frame, 1000 or 1001 "going away" when a page closes, is a leave).
   * A connection the session was moved off is ignored.
   */
  connectionClosed(connection: ParticipantConnection, code: number): void {
    if (connection !== this.connection || !this.open) return;
    const recovery = this.recovery;
    if (recovery === undefined || recovery.detached || code !== CloseCode.Abnormal) {
      this.closed();
      return;
    }
    this.dropInput();
    recovery.detach();
    this.resume!.sessions.detached(this.resume!.key);
    this.context.observer.participantDetached(this.room.name, this.id);
  }

  /** Forgets what was read from a connection that is gone: half a message, frames not yet handled (the client re-sends them). */
  private dropInput(): void {
    this.throttle?.discardBacklog();
    this.held = [];
    this.pauses &= ~PAUSED_FOR_FAIRNESS;
    this.reassembler.reset();
    if (this.partialTimer !== undefined) this.context.timers.clearTimeout(this.partialTimer);
    this.partialTimer = undefined;
  }

  /**
   * Resumes this session on `connection` for a client that received
   * `received` messages: sends `room_ready` (with the answer) and
   * `connected`, then the messages it missed, in order. Returns why not
   * instead; a refusal that no later resume can cure ends the session.
   */
  resumeOn(connection: ParticipantConnection, token: VerifiedToken, received: number, sessionId: string, roomUrl: string): ResumeRefusal | undefined {
    const refusal = this.resumeRefusal(token, received);
    if (refusal !== undefined) return refusal;
    const recovery = this.recovery!;
    const wasAttached = !recovery.detached;
    const missed = recovery.resume(received) as OutgoingMessage[];
    // With a journal, what is not in it yet follows once it is (journaled()).
    const replay = this.journal === undefined ? missed : missed.slice(0, Math.max(0, this.durable - received));
    const old = this.connection;
    this.dropInput();
    this.connection = connection;
    this.resume!.sessions.attached(this.resume!.key);
    // A connection the server still thought alive: this one takes over, and the old one's close is ignored.
    if (wasAttached) old.close(CloseCode.Normal, CloseReason.Resumed);
    if (this.pauses !== 0) connection.pause();
    this.sendHandshake(connection, { key: this.resume!.key, resumed: true, replayed: replay.length, lastRequestId: recovery.lastRequestId }, sessionId, roomUrl);
    for (const message of replay) connection.send(message);
    if (this.expiryTimer !== undefined) this.context.timers.clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (token.expiresAt !== undefined) this.armExpiry(token.expiresAt);
    this.context.observer.participantResumed(this.room.name, this.id, replay.length);
    return undefined;
  }

  /**
   * Why a client with `token` that received `received` messages cannot
   * resume this session; undefined when it can. A gap (messages it missed
   * were let go) or an impossible count ends the session: that client joins
   * anew, and its old self must not linger for the window.
   */
  resumeRefusal(token: VerifiedToken, received: number): ResumeRefusal | undefined {
    const recovery = this.recovery;
    if (recovery === undefined || !this.open || this.ending !== ResumeRefusal.Unknown) return this.ending;
    if (token.name !== this.name || token.role !== this.role) return ResumeRefusal.Mismatch;
    const refusal = recovery.check(received);
    if (refusal !== undefined) {
      this.ending = refusal;
      this.kick(CloseCode.Normal, CloseReason.Resumed);
    }
    return refusal;
  }

  /** Ends a detached session whose recovery window passed: it leaves the room as a closed one does. */
  expire(reason: ResumeRefusal): void {
    if (this.ending === ResumeRefusal.Unknown) this.ending = reason;
    this.closed();
  }

  /**
   * Feeds one binary frame from the connection. It is charged to the rate
   * limits now and handled now or, while reading is paused, in order later.
   * `arrivedAt` is the core clock's time when the socket read holding the
   * frame arrived, if the connection took it (one clock read per read
   * rather than per frame); otherwise the clock is read here.
   */
  receive(frame: Uint8Array, arrivedAt?: number): void {
    if (!this.open) return;
    this.lastFrameAt = arrivedAt ?? this.context.clock();
    this.receiving = true;
    try {
      if (this.throttle === undefined) this.schedule(frame);
      else this.throttle.receive(frame);
    } finally {
      this.receiving = false;
    }
  }

  /** A frame whose rate cost is paid: handled now, or held while the loop is congested. */
  private schedule(frame: Uint8Array): void {
    if (!this.open) return;
    const { scheduler } = this.context;
    if (this.held.length === 0 && scheduler.admits(this.flow)) {
      // Handled as it arrives: it starts at its arrival, or where the frame before it in the same read ended.
      scheduler.runInline(this.flow, this.handleBound, frame, this.receiving ? this.lastFrameAt : undefined);
      return;
    }
    this.held.push(frame);
    if (this.held.length === 1) {
      this.pauseReading(PAUSED_FOR_FAIRNESS);
      scheduler.enqueue(this);
    }
  }

  /** Handles the oldest held frame (the scheduler's turn for this identity); whether more are held. */
  step(): boolean {
    const frame = this.held.shift();
    if (frame === undefined || !this.open) {
      this.held = [];
      return false;
    }
    try {
      this.handleFrame(frame);
    } catch (error) {
      this.context.logger.error({ err: error, participant: this.id }, 'handling a frame failed; closing the connection');
      this.kick(CloseCode.InternalError, 'internal server error');
      return false;
    }
    if (this.held.length > 0) return true;
    this.resumeReading(PAUSED_FOR_FAIRNESS);
    return false;
  }

  private pauseReading(reason: number): void {
    const was = this.pauses;
    this.pauses |= reason;
    if (was === 0 && this.open) this.connection.pause();
  }

  private resumeReading(reason: number): void {
    if ((this.pauses & reason) === 0) return;
    this.pauses &= ~reason;
    if (this.pauses === 0 && this.open) {
      this.resumedAt = this.context.clock();
      this.connection.resume();
    }
  }

  /** Handles one frame; false when it only began a message (nothing for the scheduler to time). */
  private handleFrame(frame: Uint8Array): boolean {
    if (!this.open) return false;
    let message;
    try {
      message = this.reassembler.push(frame);
    } catch (error) {
      const requestId = this.reassembler.rejectedId;
      if (this.reassembler.rejectedByLimit && requestId !== undefined) {
        // A size limit is not a protocol violation: answer it and carry on.
        this.replyError(requestId, (error as Error).message, ErrorCode.InvalidRequest);
      } else {
        this.protocolError((error as Error).message, requestId);
      }
      return true;
    }
    if (message !== undefined) {
      // A request re-sent after a resume that was handled before the drop is not handled twice.
      if (this.recovery === undefined || this.recovery.admit(message)) handleMessage(this, message);
      return true;
    }
    if (this.reassembler.pending && this.partialTimer === undefined) this.armPartialTimeout(this.context.limits.partialMessageTimeoutMs);
    return !this.reassembler.awaitingData;
  }

  /** A text frame arrived: the protocol is binary only, so the connection is closed. */
  receiveText(): void {
    this.kick(CloseCode.UnsupportedData, CloseReason.TextFrame);
  }

  /**
   * Records a framing or envelope violation: answers the affected request
   * (when its id is known) with error 1002, and closes the connection once
   * there were more than `maxProtocolErrors`.
   */
  protocolError(text: string, requestId: MessageId | undefined): void {
    this.protocolErrors++;
    this.context.logger.debug({ participant: this.id, error: text }, 'protocol error');
    if (this.protocolErrors > this.context.limits.maxProtocolErrors) {
      this.kick(CloseCode.ProtocolError, CloseReason.TooManyProtocolErrors);
      return;
    }
    if (requestId !== undefined) this.replyError(requestId, text, ErrorCode.InvalidRequest);
  }

  /** Sends a response to this participant. */
  reply(message: OutgoingMessage): void {
    this.deliver(message);
  }

  /** Sends an error response with protocol code `code` and reports it. */
  replyError(requestId: MessageId, text: string, code: number): void {
    this.context.observer.errorResponse(code);
    this.deliver(this.context.encoder.error(requestId, text, code));
  }

  /**
   * Sends a lifecycle event to the actor (enable, disable, attributes).
   * Attribute changes are merged and reach the actor once, at the end of
   * the turn (see {@link ParticipantSession.flushPresence}): a participant
   * looping `set_attributes` costs one machine step and one push per
   * recipient a turn, not one per request. Any other event first hands the
   * actor what is pending, so the room hears the changes in their order.
   */
  lifecycle(event: LifecycleEvent): void {
    if (event.type === 'attributes.changed') {
      const pending = this.pendingAttributes;
      this.pendingAttributes = pending === undefined ? event.changed : { ...pending, ...event.changed };
      this.context.presenceFlush.add(this);
      return;
    }
    this.flushPresence();
    this.lifecycleState.send(event);
  }

  /** Server-initiated close: leaves the room at once, then closes the connection. */
  kick(code: number, reason: string): void {
    if (!this.open) return;
    this.closed();
    this.connection.close(code, reason);
  }

  /** The connection is gone (or going): leave the room and announce it. Idempotent. */
  closed(): void {
    if (!this.open) return;
    this.open = false;
    this.throttle?.stop();
    this.held = [];
    this.context.scheduler.release(this.flow);
    if (this.expiryTimer !== undefined) this.context.timers.clearTimeout(this.expiryTimer);
    if (this.partialTimer !== undefined) this.context.timers.clearTimeout(this.partialTimer);
    this.onClosed?.();
    if (this.resume !== undefined) this.resume.sessions.ended(this.resume.key, this.ending);
    if (!this.fenced) this.journal?.end();
    this.streams.detach(this);
    this.flushPresence();
    this.lifecycleState.send({ type: 'transport.closed' });
  }

  /**
   * Drops a message whose packets stopped coming: closes with 1008 once no
   * frame arrived for `partialMessageTimeoutMs` while it was incomplete.
   * One timer per stalled message, re-armed from the last arrival, so
   * packets that keep coming cost no timer work. Time this server keeps the
   * rest waiting is not the peer's stall: while reading is paused (rate
   * limits, or frames held for a congested loop's fair share, which may
   * already hold the next packets) the timer only re-arms, and after a
   * pause the peer has the whole timeout again.
   */
  private armPartialTimeout(delay: number): void {
    if (!Number.isFinite(delay)) return;
    this.partialTimer = this.context.timers.setTimeout(() => {
      this.partialTimer = undefined;
      if (!this.open || !this.reassembler.pending) return;
      const limit = this.context.limits.partialMessageTimeoutMs;
      if (this.pauses !== 0) {
        this.armPartialTimeout(limit);
        return;
      }
      const idle = this.context.clock() - Math.max(this.lastFrameAt, this.resumedAt);
      if (idle < limit) {
        this.armPartialTimeout(limit - idle);
        return;
      }
      this.reassembler.reset();
      this.kick(CloseCode.PolicyViolation, CloseReason.PartialMessageTimeout);
    }, delay);
  }

  /**
   * Closes the session with 4001 "token expired" once the wall clock reaches
   * the token's `exp` (the instant jose starts refusing it at the upgrade).
   */
  private armExpiry(expiresAt: number): void {
    const remaining = expiresAt - this.context.wallClock();
    if (remaining <= 0) {
      this.kick(CloseCode.TokenExpired, CloseReason.TokenExpired);
      return;
    }
    this.expiryTimer = this.context.timers.setTimeout(() => this.armExpiry(expiresAt), Math.min(remaining, MAX_TIMER_MS));
  }

  /**
   * Hands the actor the attribute changes merged since earlier in this
   * turn, as one event: an enabled participant announces them in one push.
   * Runs at the end of the turn, and before anything else this participant
   * makes others receive, so its pushes keep their order.
   */
  flushPresence(): void {
    const changed = this.pendingAttributes;
    if (changed === undefined) return;
    this.pendingAttributes = undefined;
    this.context.presenceFlush.delete(this);
    this.lifecycleState.send({ type: 'attributes.changed', changed });
  }

  /**
   * Sends the `messaging.enabled` snapshot. The room builds it at most once
   * per presence change (a repeated enable gets the same bytes); nothing of
   * it is kept per session.
   */
  private sendSnapshot(): void {
    const message = this.room.snapshot(this, this.context.encoder, this.messaging?.list !== false);
    this.deliver(message);
    this.context.observer.messageDelivered('presence', message.wire.length, 1);
  }

  /** Records this participant's presence change in the room and tells every other enabled member. */
  private announce(change: PresenceChange, message: OutgoingMessage): void {
    this.room.announce(this, change, message);
    this.context.observer.messageDelivered('presence', message.wire.length, this.room.enabledCount - (this.enabled ? 1 : 0));
  }

  private announceEnabled(): void {
    this.context.observer.messagingEnabled(this.room.name, this.id);
    this.announce('enabled', this.context.encoder.messaging(this.prefix, MessagingControlType.ParticipantEnabled, participantEnabledBodyJson(this)));
  }

  private announceDisabled(): void {
    this.context.observer.messagingDisabled(this.room.name, this.id);
    this.announce('disabled', this.context.encoder.messaging(this.prefix, MessagingControlType.ParticipantDisabled, participantDisabledBodyJson(this.id)));
  }
}
