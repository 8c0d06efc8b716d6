/**
 * What a request handler may touch: the requester's identity and
 * permissions, its room, the shared limits and encoder, and a way to answer.
 * Handlers get this narrow view instead of the whole session, so the
 * session and its handlers do not import each other.
 */
import type { MessageId } from '../../protocol/index.js';
import type { MessagingPermissions } from '../../auth/token.js';
import type { CoreContext } from './context.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { Room } from './room-directory.js';
import type { RoomMember } from './room-member.js';

/** A lifecycle event a handler hands to the session's actor. */
export type LifecycleEvent =
  | { type: 'messaging.enable' }
  | { type: 'messaging.disable' }
  | { type: 'attributes.changed'; changed: Record<string, unknown> };

/** The shared parts of the core a handler needs. */
export type HandlerContext = Pick<CoreContext, 'limits' | 'encoder' | 'logger' | 'broadcastToSender' | 'observer'>;

/**
 * The messaging stream relay as sessions and handlers use it (implemented by
 * `MessagingStreamRelay` in messaging-streams.ts).
 */
export interface StreamRelay {
  /** A session on this node that can take part in streams. */
  attach(session: RequestScope): void;
  /** The session left: its streams end and their other ends are told. */
  detach(session: RequestScope): void;
  /** `messaging.stream` invoked by `caller` (request `requestId`). */
  open(caller: RequestScope, requestId: MessageId, toolCallId: string | null | undefined, args: { type: string; [key: string]: unknown }): void;
  /** A caller's `room.tool_call_request_chunk`. */
  requestChunk(session: RequestScope, header: Record<string, unknown>, payload: Uint8Array): void;
  /** A target's `room.tool_call_response`. */
  targetResponse(session: RequestScope, messageId: MessageId, header: Record<string, unknown>, payload: Uint8Array): void;
  /** A target's `room.tool_call_response_chunk`. */
  targetChunk(session: RequestScope, header: Record<string, unknown>, payload: Uint8Array): void;
}

/** The requester, as its request handlers see it (also its room membership, to exclude it from a fan-out). */
export interface RequestScope extends RoomMember {
  /** The token's `name`. */
  readonly name: string;
  /** `api.messaging` permissions, or undefined when the grant is absent. */
  readonly messaging: MessagingPermissions | undefined;
  /** Header prefix of `messaging.send` pushes from this participant. */
  readonly prefix: string;
  /** The room it is in. */
  readonly room: Room;
  /** Whether the requester has messaging enabled. */
  readonly enabled: boolean;
  /** Limits, encoder, logger, broadcast setting and observer. */
  readonly context: HandlerContext;
  /** The relay of messaging streams on this node. */
  readonly streams: StreamRelay;
  /** The merged attribute map (replaced, never mutated). */
  attributes: Record<string, unknown>;
  /** Sends a response to the requester. */
  reply(message: OutgoingMessage): void;
  /** Sends an error response with protocol code `code` (and reports it). */
  replyError(requestId: MessageId, text: string, code: number): void;
  /** Records a framing or envelope violation and answers `requestId` with 1002. */
  protocolError(text: string, requestId: MessageId | undefined): void;
  /** Hands a lifecycle event to the session's actor. */
  lifecycle(event: LifecycleEvent): void;
  /** Announces this participant's coalesced presence changes now (before a message of its own goes out). */
  flushPresence(): void;
}
