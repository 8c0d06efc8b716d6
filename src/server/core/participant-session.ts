/**
 * One participant connection inside the core: its identity, attributes,
 * frame reassembly, rate limits, its place in the server's fair scheduler
 * and its lifecycle actor. Knows nothing of `ws`.
 */
import { PacketReassembler, ErrorCode, MessagingControlType, MessageType, type MessageId } from '../../protocol/index.js';
import { CloseCode, CloseReason } from '../../protocol/close-codes.js';
import { connectedHeader, roomReadyHeader } from '../../protocol/handshake.js';
import { participantAttributesBodyJson, participantDisabledBodyJson, participantEnabledBodyJson } from '../../protocol/presence.js';
import type { MessagingPermissions, VerifiedToken } from '../../auth/token.js';
import type { CoreContext, ParticipantConnection } from './context.js';
import { noopObserver } from './observer.js';
import { messagingPrefix } from './frame-encoder.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { PresenceChange, Room, RoomMember } from './room-directory.js';
import type { Flow, Schedulable } from './fair-scheduler.js';
import { InboundThrottle } from './inbound-throttle.js';
import { SessionLifecycle } from './session-lifecycle.js';
import { handleMessage } from './request-handler.js';
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
}

/** A participant's server-side session; also its {@link RoomMember} entry. */
export class ParticipantSession implements RoomMember, RequestScope, Schedulable {
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

  private readonly reassembler: PacketReassembler;
  private readonly throttle: InboundThrottle;
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
  /** Attribute changes not yet announced: merged, and pushed once at the end of the turn. */
  private pendingAttributes: Record<string, unknown> | undefined;
  private readonly handleBound = (frame: Uint8Array): void => this.handleFrame(frame);
  /** Clock time of the last frame that arrived. */
  private lastFrameAt = 0;

  constructor(
    readonly context: CoreContext,
    readonly init: SessionInit,
  ) {
    const { limits } = context;
    this.id = init.id;
    this.role = init.token.role;
    this.name = init.token.name;
    this.messaging = init.token.messaging;
    this.prefix = messagingPrefix(init.id);
    this.streams = init.streams;
    this.attributes = { name: init.token.name };
    this.reassembler = new PacketReassembler({
      maxMessageBytes: limits.maxMessageBytes,
      maxTypeBytes: limits.maxTypeBytes,
      discardRejected: true,
    });
    this.flow = context.scheduler.flow(init.token.name);
    this.throttle = new InboundThrottle(limits, context.clock, context.timers, {
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
        this.announceDisabled();
        return;
      case 'presence.attributes': {
        // Successive changes within a turn become one push per recipient.
        const changed = emitted.changed;
        this.pendingAttributes = this.pendingAttributes === undefined ? changed : { ...this.pendingAttributes, ...changed };
        this.context.presenceFlush.add(this);
        return;
      }
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

  /** Whether messaging is enabled: the room's roster, the one record of presence, holds this session. */
  get enabled(): boolean {
    return this.room !== undefined && this.room.enabledMember(this.id) === this;
  }

  /** Starts the session in `room`: sends `room_ready` then `connected`. */
  start(room: Room): void {
    this.room = room;
    this.lifecycleState.start();
    this.context.observer.participantJoined(room.name, this.id);
    this.streams.attach(this);
    const { encoder } = this.context;
    this.deliver(encoder.push(MessageType.RoomReady, roomReadyHeader({ roomName: room.name, roomUrl: this.init.roomUrl, sessionId: this.init.sessionId })));
    this.deliver(encoder.push(MessageType.Connected, connectedHeader({ participantId: this.id, attributes: this.attributes })));
    if (this.init.token.expiresAt !== undefined) this.armExpiry(this.init.token.expiresAt);
  }

  /** Delivers frames to this participant, unless its connection is closing. */
  deliver(message: OutgoingMessage): void {
    if (this.open) this.init.connection.send(message);
  }

  /**
   * Feeds one binary frame from the connection. It is charged to the rate
   * limits now and handled now or, while reading is paused, in order later.
   */
  receive(frame: Uint8Array): void {
    if (!this.open) return;
    this.lastFrameAt = this.context.clock();
    this.throttle.receive(frame);
  }

  /** A frame whose rate cost is paid: handled now, or held while the loop is congested. */
  private schedule(frame: Uint8Array): void {
    if (!this.open) return;
    const { scheduler } = this.context;
    if (this.held.length === 0 && scheduler.open) {
      scheduler.runInline(this.flow, this.handleBound, frame);
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
    if (was === 0 && this.open) this.init.connection.pause();
  }

  private resumeReading(reason: number): void {
    if ((this.pauses & reason) === 0) return;
    this.pauses &= ~reason;
    if (this.pauses === 0 && this.open) this.init.connection.resume();
  }

  private handleFrame(frame: Uint8Array): void {
    if (!this.open) return;
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
      return;
    }
    if (message !== undefined) handleMessage(this, message);
    else if (this.reassembler.pending && this.partialTimer === undefined) this.armPartialTimeout(this.context.limits.partialMessageTimeoutMs);
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

  /** Sends a lifecycle event to the actor (enable, disable, attributes). */
  lifecycle(event: LifecycleEvent): void {
    this.lifecycleState.send(event);
  }

  /** Server-initiated close: leaves the room at once, then closes the connection. */
  kick(code: number, reason: string): void {
    if (!this.open) return;
    this.closed();
    this.init.connection.close(code, reason);
  }

  /** The connection is gone (or going): leave the room and announce it. Idempotent. */
  closed(): void {
    if (!this.open) return;
    this.open = false;
    this.throttle.stop();
    this.held = [];
    this.context.scheduler.release(this.flow);
    if (this.expiryTimer !== undefined) this.context.timers.clearTimeout(this.expiryTimer);
    if (this.partialTimer !== undefined) this.context.timers.clearTimeout(this.partialTimer);
    this.init.onClosed?.();
    this.streams.detach(this);
    this.lifecycleState.send({ type: 'transport.closed' });
  }

  /**
   * Drops a message whose packets stopped coming: closes with 1008 once no
   * frame arrived for `partialMessageTimeoutMs` while it was incomplete.
   * One timer per stalled message, re-armed from the last arrival, so
   * packets that keep coming cost no timer work.
   */
  private armPartialTimeout(delay: number): void {
    if (!Number.isFinite(delay)) return;
    this.partialTimer = this.context.timers.setTimeout(() => {
      this.partialTimer = undefined;
      if (!this.open || !this.reassembler.pending) return;
      const limit = this.context.limits.partialMessageTimeoutMs;
      const idle = this.context.clock() - this.lastFrameAt;
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
   * Announces the attribute changes held since earlier in this turn, as one
   * push. Runs at the end of the turn, and before anything else this
   * participant makes others receive, so its pushes keep their order.
   */
  flushPresence(): void {
    const changed = this.pendingAttributes;
    if (changed === undefined) return;
    this.pendingAttributes = undefined;
    this.context.presenceFlush.delete(this);
    if (!this.enabled) return;
    this.announce('attributes', this.context.encoder.messaging(this.prefix, MessagingControlType.ParticipantAttributes, participantAttributesBodyJson(changed)));
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
    this.flushPresence();
    this.context.observer.messagingDisabled(this.room.name, this.id);
    this.announce('disabled', this.context.encoder.messaging(this.prefix, MessagingControlType.ParticipantDisabled, participantDisabledBodyJson(this.id)));
  }
}
