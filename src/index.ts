/**
 * roomstate: a MeshAgent-compatible room messaging server, a reactive client
 * built on XState and RxJS, and the codec they share.
 *
 * @packageDocumentation
 */
export * from './protocol/index.js';
export { RoomStateError, RoomStateErrorCode, CodecError, ValidationError, RoomServerError } from './errors.js';
export { mintToken, verifyToken, TokenError, roleFromGrants, messagingFromGrants, TOKEN_VERSION, mintAdminToken, verifyAdminToken, ADMIN_GRANT } from './auth/token.js';
export type {
  MintTokenOptions,
  VerifyTokenOptions,
  VerifiedToken,
  ParticipantGrant,
  ParticipantRole,
  MessagingPermissions,
  TokenRefusal,
  AdminScope,
  MintAdminTokenOptions,
  VerifiedAdminToken,
} from './auth/token.js';
export { mintApiKey, verifyApiKey } from './auth/api-key.js';
export type { MintApiKeyOptions, VerifiedApiKey } from './auth/api-key.js';
export { statechartOf, machineStatechart, MACHINE_NAMES, toMermaid, layoutStatechart, toSvg } from './diagram/index.js';
export type { Statechart, StatechartState, StatechartTransition, StatechartLayout } from './diagram/index.js';
// Server and client exports are appended below by their modules.
export { createRoomServer, DEFAULT_LIMITS, SERVER_DEFAULTS, resolveLimits, RoomServerCore, InMemoryRoomDirectory, RedisRoomDirectory, RELAY_UNAVAILABLE_TEXT, combineObservers, noopObserver } from './server/index.js';
export type {
  RoomServer,
  RoomServerOptions,
  RoomServerLimits,
  RoomServerMetricsOptions,
  RoomServerTlsOptions,
  RoomServerAddress,
  RoomServerCloseOptions,
  RoomServerCoreOptions,
  RoomDirectory,
  Room,
  RoomMember,
  AdmissionRefusal,
  DirectoryStats,
  PresenceChange,
  RedisClusterOptions,
  ParticipantConnection,
  ServerObserver,
  ObservedSession,
  DeliveryKind,
  RequestKind,
} from './server/index.js';
export {
  RoomClient,
  MessagingClient,
  LocalParticipant,
  RemoteParticipant,
  ParticipantNotFoundError,
  RoomClosedError,
  ConnectTimeoutError,
  MessagingDisabledError,
  describeClose,
  connectionStateName,
  messagingStateName,
  roomUrl,
  connectionMachine,
  messagingMachine,
  presenceMachine,
} from './client/node.js';
export type {
  RoomClientOptions,
  MessageTarget,
  SendMessageOptions,
  BroadcastMessageOptions,
  ParticipantAttributesUpdate,
  Attributes,
  RoomMessage,
  RoomMessageEvent,
  MessagingEventName,
  MessagingEventListener,
  WebSocketConstructor,
  WebSocketLike,
  ClientLogger,
  ConnectionStateName,
  MessagingStateName,
  ConnectionEnd,
  AttemptFailure,
  TransportClose,
  MessagingFailure,
  MessageValidator,
  SafeParser,
  TypedRoomMessage,
  InvalidMessage,
  MessagesOfOptions,
  ReplyOptions,
  ReplyResult,
  ResumeOutcome,
} from './client/node.js';
