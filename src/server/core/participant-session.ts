/**
 * One participant connection inside the core: its identity, attributes,
 * frame reassembly, rate limits and lifecycle actor. Knows nothing of `ws`.
 */
import { createActor, type Actor, type StateValue } from 'xstate';
import { participantSessionMachine } from '../../../machines/participant-session.js';
import { PacketReassembler, ErrorCode, MessagingControlType, MessageType } from '../../protocol/index.js';
import type { MessagingPermissions, VerifiedToken } from '../../auth/token.js';
import type { CoreContext, ParticipantConnection } from './context.js';
import { noopObserver } from './observer.js';
import { messagingPrefix } from './frame-encoder.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { Room, RoomMember } from './room-directory.js';
import { TokenBucket } from './token-bucket.js';
import { handleMessage } from './request-handler.js';

/** WebSocket close codes the core uses. */
export const CloseCode = {
  /** The server is going away (shutdown). */
  ServiceRestart: 1012,
  /** Repeated framing violations. */
  ProtocolError: 1002,
  /** A text frame arrived; the protocol is binary only. */
  UnsupportedData: 1003,
  /** Policy: slow consumer over its outgoing buffer limit. */
  PolicyViolation: 1008,
  /** The room became full between the upgrade and the join. */
  TryAgainLater: 1013,
} as const;

/** What a session is created from. */
export interface SessionInit {
  readonly id: string;
  readonly sessionId: string;
  readonly roomName: string;
  readonly roomUrl: string;
  readonly token: VerifiedToken;
  readonly connection: ParticipantConnection;
}

/** A participant's server-side session; also its {@link RoomMember} entry. */
export class ParticipantSession implements RoomMember {
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
  /** Mirrors the actor's `messagingEnabled` tag, for the relay path. */
  enabled = false;
  /** The room, once joined. */
  room!: Room;

  private readonly reassembler: PacketReassembler;
  private readonly messageRate: TokenBucket;
  private readonly byteRate: TokenBucket;
  private readonly actor: Actor<typeof participantSessionMachine>;
  private protocolErrors = 0;
  private open = true;

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
    this.attributes = { name: init.token.name };
    this.reassembler = new PacketReassembler({
      maxMessageBytes: limits.maxMessageBytes,
      maxTypeBytes: limits.maxTypeBytes,
      discardRejected: true,
    });
    this.messageRate = new TokenBucket(limits.messagesPerSecond, limits.messagesPerSecond, context.clock);
    this.byteRate = new TokenBucket(limits.bytesPerSecond, Math.max(limits.bytesPerSecond, limits.maxMessageBytes), context.clock);
    // Inspected only when someone listens (the console); lifecycle events only, never per message.
    const { observer } = context;
    this.actor = createActor(
      participantSessionMachine,
      observer.sessionTransition === noopObserver.sessionTransition
        ? {}
        : {
            inspect: (inspection) => {
              if (inspection.type === '@xstate.snapshot') observer.sessionTransition(this, inspection.event.type, (inspection.snapshot as unknown as { value: StateValue }).value);
            },
          },
    );
    this.actor.on('presence.snapshot', () => this.sendSnapshot());
    this.actor.on('presence.enabled', () => this.announceEnabled());
    this.actor.on('presence.disabled', () => this.announceDisabled());
    this.actor.on('presence.attributes', ({ changed }) => {
      this.announce(this.context.encoder.control(this.prefix, MessagingControlType.ParticipantAttributes, { attributes: changed }));
    });
    this.actor.on('session.ended', () => {
      this.context.directory.leave(this.room, this);
      this.context.observer.participantLeft(this.room.name, this.id);
    });
  }

  /** Whether the connection is still open (not closed or being closed). */
  get isOpen(): boolean {
    return this.open;
  }

  /** Starts the session in `room`: sends `room_ready` then `connected`. */
  start(room: Room): void {
    this.room = room;
    this.actor.start();
    this.context.observer.participantJoined(room.name, this.id);
    const { encoder } = this.context;
    this.deliver(encoder.push(MessageType.RoomReady, { room_name: room.name, room_url: this.init.roomUrl, session_id: this.init.sessionId }));
    this.deliver(encoder.push(MessageType.Connected, { type: 'init', participantId: this.id, attributes: this.attributes }));
  }

  /** Delivers frames to this participant, unless its connection is closing. */
  deliver(message: OutgoingMessage): void {
    if (this.open) this.init.connection.send(message);
  }

  /** Feeds one binary frame from the connection. */
  receive(frame: Uint8Array): void {
    if (!this.open) return;
    let message;
    try {
      message = this.reassembler.push(frame);
    } catch (error) {
      const requestId = this.reassembler.rejectedId;
      if (this.reassembler.rejectedByLimit && requestId !== undefined) {
        // A size limit is not a protocol violation: answer it (within the request rate) and carry on.
        if (this.messageRate.take(1)) this.replyError(requestId, (error as Error).message, ErrorCode.InvalidRequest);
      } else {
        this.protocolError((error as Error).message, requestId);
      }
      return;
    }
    if (message === undefined) return;
    if (!this.messageRate.take(1) || !this.byteRate.take(message.data.byteLength)) {
      this.context.observer.rateLimited();
      if (message.type !== MessageType.Response) {
        this.replyError(message.id, `rate limit exceeded: at most ${this.context.limits.messagesPerSecond} requests and ${this.context.limits.bytesPerSecond} bytes per second.`, ErrorCode.OperationFailed);
      }
      return;
    }
    handleMessage(this, message);
  }

  /** A text frame arrived: the protocol is binary only, so the connection is closed. */
  receiveText(): void {
    this.kick(CloseCode.UnsupportedData, 'text frames are not supported; the protocol is binary');
  }

  /**
   * Records a framing or envelope violation: answers the affected request
   * (when its id is known) with error 1002, and closes the connection once
   * there were more than `maxProtocolErrors`.
   */
  protocolError(text: string, requestId: number | undefined): void {
    this.protocolErrors++;
    this.context.logger.debug({ participant: this.id, error: text }, 'protocol error');
    if (this.protocolErrors > this.context.limits.maxProtocolErrors) {
      this.kick(CloseCode.ProtocolError, 'too many protocol errors');
      return;
    }
    if (requestId !== undefined) this.replyError(requestId, text, ErrorCode.InvalidRequest);
  }

  /** Sends a response to this participant. */
  reply(message: OutgoingMessage): void {
    this.deliver(message);
  }

  /** Sends an error response with protocol code `code` and reports it. */
  replyError(requestId: number, text: string, code: number): void {
    this.context.observer.errorResponse(code);
    this.deliver(this.context.encoder.error(requestId, text, code));
  }

  /** Sends a lifecycle event to the actor (enable, disable, attributes). */
  lifecycle(event: { type: 'messaging.enable' } | { type: 'messaging.disable' } | { type: 'attributes.changed'; changed: Record<string, unknown> }): void {
    this.actor.send(event);
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
    this.actor.send({ type: 'transport.closed' });
    this.actor.stop();
  }

  private sendSnapshot(): void {
    const participants: { id: string; role: string; attributes: Readonly<Record<string, unknown>> }[] = [];
    if (this.messaging?.list !== false) {
      for (const member of this.room.enabledMembers()) {
        if (member !== this) participants.push({ id: member.id, role: member.role, attributes: member.attributes });
      }
    }
    const snapshot = this.context.encoder.control(this.prefix, MessagingControlType.Enabled, { participants });
    this.deliver(snapshot);
    this.context.observer.messageDelivered('presence', snapshot.wire.length, 1);
  }

  /** Tells every other enabled member of the room about this participant. */
  private announce(message: OutgoingMessage): void {
    this.room.fanOut(message, this);
    this.context.observer.messageDelivered('presence', message.wire.length, this.room.enabledCount - (this.enabled ? 1 : 0));
  }

  private announceEnabled(): void {
    this.enabled = true;
    this.room.setEnabled(this, true);
    this.context.observer.messagingEnabled(this.room.name, this.id);
    this.announce(this.context.encoder.control(this.prefix, MessagingControlType.ParticipantEnabled, { id: this.id, role: this.role, attributes: this.attributes }));
  }

  private announceDisabled(): void {
    this.enabled = false;
    this.room.setEnabled(this, false);
    this.context.observer.messagingDisabled(this.room.name, this.id);
    this.announce(this.context.encoder.control(this.prefix, MessagingControlType.ParticipantDisabled, { id: this.id }));
  }
}
