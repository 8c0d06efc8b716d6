/**
 * The roomstate room server: a MeshAgent-compatible room messaging server.
 *
 * @example
 * ```ts
 * import { createRoomServer } from 'roomstate';
 * const server = createRoomServer({ secret: 'change-me', port: 8080 });
 * await server.listen();
 * ```
 *
 * @packageDocumentation
 */
export { createRoomServer } from './room-server.js';
export type { RoomServer, RoomServerAddress, RoomServerCloseOptions } from './room-server.js';
export { DEFAULT_LIMITS, SERVER_DEFAULTS, resolveLimits } from './options.js';
export type { RoomServerOptions, RoomServerLimits, RoomServerMetricsOptions, RoomServerTlsOptions } from './options.js';
export { RoomServerCore } from './core/room-server-core.js';
export type { RoomServerCoreOptions, JoinRequest } from './core/room-server-core.js';
export { InMemoryRoomDirectory } from './core/room-directory.js';
export type { RoomDirectory, Room, AdmissionRefusal, RoomDirectoryLimits, DirectoryStats } from './core/room-directory.js';
export type { RoomMember, PresenceChange } from './core/room-member.js';
export { RedisRoomDirectory, RELAY_UNAVAILABLE_TEXT } from './cluster/redis-directory.js';
export type { RedisClusterOptions } from './cluster/cluster-options.js';
export type { ParticipantConnection } from './core/context.js';
export { ParticipantSession } from './core/participant-session.js';
export type { Clock, Timers } from './core/token-bucket.js';
export { combineObservers, noopObserver, requestKind } from './core/observer.js';
export type { ServerObserver, ObservedSession, DeliveryKind, RequestKind } from './core/observer.js';
