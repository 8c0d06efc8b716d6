/**
 * The roomstate room client, browser-safe: nothing here (or below) imports
 * `node:*` or `ws`. The websocket defaults to `globalThis.WebSocket`; in Node
 * use the `roomstate` entry (or `src/client/node.ts`), which defaults to `ws`.
 *
 * @example
 * ```ts
 * import { RoomClient } from 'roomstate/client';
 * const room = new RoomClient({ url: 'wss://rooms.example.com', room: 'myroom', token });
 * await room.start();
 * await room.messaging.enable();
 * room.messaging.messages$.subscribe((m) => console.log(m.type, m.message));
 * ```
 *
 * @packageDocumentation
 */
export { RoomClient, connectionStateName } from './room-client.js';
export type { RoomClientOptions } from './room-client.js';
export { MessagingClient, messagingStateName, DEFAULT_WAIT_MS } from './messaging-client.js';
export type {
  MessageTarget,
  SendMessageOptions,
  BroadcastMessageOptions,
  ParticipantAttributesUpdate,
  MessagingClientParts,
} from './messaging-client.js';
export { LocalParticipant, RemoteParticipant, sameAttributes } from './participants.js';
export type { Attributes } from './participants.js';
export { ParticipantNotFoundError, RoomClosedError, ConnectTimeoutError, MessagingDisabledError, describeClose, USER_END } from './errors.js';
export type { UpgradeRefusal } from './socket-failure.js';
export { LinkLostError } from './requests.js';
export type { ResumeOutcome } from './resume.js';
export { select, emitted } from './observe.js';
export type { MessageValidator, SafeParser, TypedRoomMessage, InvalidMessage, MessagesOfOptions, ReplyOptions, ReplyResult } from './agent-helpers.js';
export { DEFAULT_URL, CONNECTION_ENV } from './environment.js';
export { resolveWebSocket, ReadyState } from './websocket.js';
export { roomUrl } from '../protocol/room-url.js';
export type { WebSocketConstructor, WebSocketLike, WebSocketLikeEventMap } from './websocket.js';
export type { RoomMessage } from './wire.js';
export type { RoomMessageEvent, RoomMessageLike, MessagingEventName, MessagingEventListener } from './events.js';
export type { ClientLogger } from './pipeline.js';
export { connectionMachine, messagingMachine, presenceMachine } from '../../machines/index.js';
export type { ConnectionStateName, MessagingStateName, ConnectionEnd, AttemptFailure, TransportClose, MessagingFailure } from '../../machines/index.js';
