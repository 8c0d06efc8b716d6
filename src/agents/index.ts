/**
 * `roomstate/agents`: MeshAgent's agent turns over room messaging, for the
 * caller ({@link openThread}, {@link AgentThread.startTurn}, steering,
 * interruption, typed events and errors) and for the agent
 * ({@link serveAgent}). Browser-safe like `roomstate/client`: nothing here
 * imports `node:*` or `ws`.
 *
 * @example
 * ```ts
 * import { RoomClient } from 'roomstate/client';
 * import { openThread } from 'roomstate/agents';
 * const room = new RoomClient({ url, room: 'lobby', token });
 * await room.start();
 * await room.messaging.enable();
 * const thread = await openThread(room, 'assistant');
 * const turn = thread.startTurn({ text: 'hello' });
 * turn.text$.subscribe((delta) => console.log(delta));
 * const { text } = await turn.done;
 * ```
 *
 * @packageDocumentation
 */
export { findAgent, isAgent, openThread, newThreadId, AgentThread, FIND_AGENT_TIMEOUT_MS } from './agent-thread.js';
export type { TurnInput, OpenThreadOptions } from './agent-thread.js';
export { AgentTurn } from './agent-turn.js';
export type { TurnResult, TurnTimeouts } from './agent-turn.js';
export { agentEventOf } from './agent-events.js';
export type { AgentEvent, ToolCallPhase } from './agent-events.js';
export {
  AgentTurnError,
  AgentTurnRejectedError,
  AgentTurnCancelledError,
  AgentTurnFailedError,
  AgentLeftError,
  AgentTurnTimeoutError,
  AgentSteerRejectedError,
} from './errors.js';
export { serveAgent, acceptTextTurns } from './serve-agent.js';
export type { ServeAgentOptions, ServedAgent } from './serve-agent.js';
export { ServedTurn } from './served-turn.js';
export type { AgentSender, TurnSteerInput, ToolCallHandle } from './served-turn.js';
export {
  AGENT_MESSAGE,
  SUPPORTS_AGENT_MESSAGES,
  AgentMessageType,
  AgentErrorCode,
  decodeAgentMessage,
  agentMessage,
  contentText,
} from '../protocol/agent-turns.js';
export type { AgentContent, AgentError, AgentWireMessage } from '../protocol/agent-turns.js';
export { agentTurnMachine, agentThreadMachine, agentTurnStateName } from '../../machines/index.js';
export type { AgentTurnStateName } from '../../machines/index.js';
