/**
 * roomstate's statecharts, pure XState v5 machines, exported for
 * visualisers and for `.provide()`-ing custom implementations.
 *
 * @packageDocumentation
 */
// Each machine module appends its export line below.
export { participantSessionMachine, type ParticipantSessionEvent, type ParticipantSessionEmitted } from './participant-session.js';
export { connectionMachine, RECONNECT_BASE_DELAY_MS, RECONNECT_MAX_DELAY_MS, HANDSHAKE_TIMEOUT_MS, CONNECT_TIMEOUT_MS, NEVER_MS } from './connection.js';
export type { ConnectionMachine, ConnectionContext, ConnectionEvent, ConnectionEmitted, ConnectionInput, ConnectionEnd, ConnectionCloseCodes, ConnectionStateName, RoomInfo, TransportClose, AttemptFailure } from './connection.js';
export { messagingMachine, ENABLE_TIMEOUT_MS, DISABLE_TIMEOUT_MS } from './messaging.js';
export type { MessagingMachine, MessagingContext, MessagingEvent, MessagingEmitted, MessagingFailure, MessagingStateName, OutboxRejection, PresenceOrigin, PresencePush, RosterChange } from './messaging.js';
export { presenceMachine } from './presence.js';
export type { PresenceMachine, PresenceContext, PresenceEvent, PresenceParticipant } from './presence.js';
export { PresenceRoster, appearanceOf } from './presence.js';
export type { PresenceEntry, RosterDraft } from './presence.js';
export { agentTurnMachine, agentTurnStateName, TURN_ANSWER_TIMEOUT_MS } from './agent-turn.js';
export type { AgentTurnMachine, AgentTurnContext, AgentTurnEvent, AgentTurnEmitted, AgentTurnInput, AgentTurnStateName, TurnError } from './agent-turn.js';
export { agentThreadMachine, TURN_CANCELLED, STEER_NOT_IN_PROGRESS, STEER_TURN_ENDED } from './agent-thread.js';
export type { AgentThreadMachine, AgentThreadContext, AgentThreadEvent, AgentThreadEmitted, AgentThreadInput, ThreadTurn, ThreadSteer, ThreadError } from './agent-thread.js';
