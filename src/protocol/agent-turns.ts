/**
 * MeshAgent's agent-turn protocol, as it rides on room messaging: the
 * `agent-message` room message type, the agent message types
 * (`meshagent.agent.…`), the error codes, the content items, and an
 * I/O-free decoder that checks the fields roomstate relies on. Read from
 * `meshagent-agents` 0.56.0 (`messages.py`, `chat_channel.py`,
 * `process.py`); see docs/agents.md for what differs from older notes.
 *
 * @packageDocumentation
 */

/** The room message `type` that carries every agent message (a direct `send`, never a broadcast). */
export const AGENT_MESSAGE = 'agent-message';

/** The participant attribute an agent sets to `true` while it serves turns (removed when it stops). */
export const SUPPORTS_AGENT_MESSAGES = 'supports_agent_messages';

/** The attribute with the agent's empty-thread greeting, set beside {@link SUPPORTS_AGENT_MESSAGES}. */
export const EMPTY_STATE_TITLE = 'empty_state_title';

/** The agent message types roomstate sends or understands. */
export const AgentMessageType = {
  ThreadOpen: 'meshagent.agent.thread.open',
  ThreadClose: 'meshagent.agent.thread.close',
  ThreadLoaded: 'meshagent.agent.thread.loaded',
  ThreadStatus: 'meshagent.agent.thread.status',
  TurnStart: 'meshagent.agent.turn.start',
  TurnStartAccepted: 'meshagent.agent.turn.start.accepted',
  TurnStartRejected: 'meshagent.agent.turn.start.rejected',
  TurnStarted: 'meshagent.agent.turn.started',
  TurnEnded: 'meshagent.agent.turn.ended',
  TurnSteer: 'meshagent.agent.turn.steer',
  TurnSteerAccepted: 'meshagent.agent.turn.steer.accepted',
  TurnSteered: 'meshagent.agent.turn.steered',
  TurnSteerRejected: 'meshagent.agent.turn.steer.rejected',
  TurnInterrupt: 'meshagent.agent.turn.interrupt',
  TurnInterruptAccepted: 'meshagent.agent.turn.interrupt.accepted',
  TurnInterrupted: 'meshagent.agent.turn.interrupted',
  TextStarted: 'meshagent.agent.text_content.started',
  TextDelta: 'meshagent.agent.text_content.delta',
  TextEnded: 'meshagent.agent.text_content.ended',
  ReasoningStarted: 'meshagent.agent.reasoning_content.started',
  ReasoningDelta: 'meshagent.agent.reasoning_content.delta',
  ReasoningEnded: 'meshagent.agent.reasoning_content.ended',
  FileStarted: 'meshagent.agent.file_content.started',
  FileDelta: 'meshagent.agent.file_content.delta',
  FileEnded: 'meshagent.agent.file_content.ended',
  ToolCallPending: 'meshagent.agent.tool_call.pending',
  ToolCallInProgress: 'meshagent.agent.tool_call.in_progress',
  ToolCallStarted: 'meshagent.agent.tool_call.started',
  ToolCallArgumentsDelta: 'meshagent.agent.tool_call.arguments_delta',
  ToolCallLogDelta: 'meshagent.agent.tool_call.log_delta',
  ToolCallEnded: 'meshagent.agent.tool_call.ended',
  UsageUpdated: 'meshagent.agent.usage.updated',
} as const;

/** One of the {@link AgentMessageType} values. */
export type AgentMessageType = (typeof AgentMessageType)[keyof typeof AgentMessageType];

/** The `error.code` values the protocol uses (an agent may send others, or null). */
export const AgentErrorCode = {
  /** `turn.ended` of an interrupted turn. */
  Cancelled: 'cancelled',
  /** A steer for a turn that is not running. */
  TurnNotInProgress: 'turn_not_in_progress',
  /** A steer from another participant while the turn uses client toolkits. */
  TurnOwnedByParticipant: 'turn_owned_by_participant',
  /** A steer accepted, but the turn ended before it was applied. */
  TurnEnded: 'turn_ended',
  UnknownBackend: 'unknown_backend',
  UnknownProvider: 'unknown_provider',
  UnknownModel: 'unknown_model',
  UnsupportedModality: 'unsupported_modality',
  BackendRequired: 'backend_required',
  ThreadNotAvailable: 'thread_not_available',
  ParticipantNameRequired: 'participant_name_required',
} as const;

/** A content item of a turn's or a steer's input. */
export type AgentContent =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'file'; readonly url: string; readonly name?: string }
  | { readonly type: 'audio'; readonly url: string };

/** An agent's error: `code` is a required key, and may be null. */
export interface AgentError {
  readonly message: string;
  readonly code: string | null;
}

/**
 * An agent message as decoded: the fields every message has, the thread
 * and turn ids where present, and the rest of the body as it came.
 */
export interface AgentWireMessage {
  readonly type: string;
  readonly message_id: string;
  readonly thread_id?: string;
  readonly turn_id?: string;
  readonly source_message_id?: string;
  readonly sender_name?: string;
  readonly error?: AgentError;
  readonly [field: string]: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(body: Record<string, unknown>, field: string): boolean {
  return body[field] === undefined || body[field] === null || typeof body[field] === 'string';
}

/** Whether `value` is an {@link AgentError} (`code` present, string or null). */
export function isAgentError(value: unknown): value is AgentError {
  return isRecord(value) && typeof value.message === 'string' && 'code' in value && (value.code === null || typeof value.code === 'string');
}

/** Whether `value` is a list of {@link AgentContent} items. */
export function isAgentContent(value: unknown): value is AgentContent[] {
  if (!Array.isArray(value)) return false;
  return value.every(
    (item) =>
      isRecord(item) &&
      ((item.type === 'text' && typeof item.text === 'string') || ((item.type === 'file' || item.type === 'audio') && typeof item.url === 'string')),
  );
}

/** Types whose `turn_id` is required (a receiver drops them without it). */
const NEEDS_TURN = new Set<string>([
  AgentMessageType.TurnStarted,
  AgentMessageType.TurnEnded,
  AgentMessageType.TurnSteer,
  AgentMessageType.TurnInterrupt,
  AgentMessageType.TurnSteerAccepted,
  AgentMessageType.TurnSteered,
  AgentMessageType.TurnSteerRejected,
  AgentMessageType.TurnInterruptAccepted,
  AgentMessageType.TurnInterrupted,
  AgentMessageType.TextStarted,
  AgentMessageType.TextDelta,
  AgentMessageType.TextEnded,
]);

/** Types that answer a message and name it in `source_message_id`. */
const NEEDS_SOURCE = new Set<string>([
  AgentMessageType.TurnStartAccepted,
  AgentMessageType.TurnStartRejected,
  AgentMessageType.TurnStarted,
  AgentMessageType.TurnSteerAccepted,
  AgentMessageType.TurnSteered,
  AgentMessageType.TurnSteerRejected,
  AgentMessageType.TurnInterruptAccepted,
  AgentMessageType.TurnInterrupted,
]);

/** Types that must carry an `error`. */
const NEEDS_ERROR = new Set<string>([AgentMessageType.TurnStartRejected, AgentMessageType.TurnSteerRejected]);

/**
 * Decodes the body of an `agent-message` room message, bare or wrapped as
 * `{"payload": {...}}`. Returns undefined for what a MeshAgent receiver
 * drops: no string `type` or `message_id`, a thread message without
 * `thread_id`, a turn message without `turn_id`, an answer without
 * `source_message_id`, a rejection (or an `error`) without a valid
 * `{message, code}`, a text delta without text.
 */
export function decodeAgentMessage(body: unknown): AgentWireMessage | undefined {
  if (!isRecord(body)) return undefined;
  const message = isRecord(body.payload) ? body.payload : body;
  const type = message.type;
  if (typeof type !== 'string' || !type.startsWith('meshagent.agent.')) return undefined;
  if (typeof message.message_id !== 'string' || message.message_id === '') return undefined;
  for (const field of ['thread_id', 'turn_id', 'source_message_id', 'sender_name']) if (!optionalString(message, field)) return undefined;
  if (typeof message.thread_id !== 'string' || message.thread_id === '') return undefined;
  if (NEEDS_TURN.has(type) && (typeof message.turn_id !== 'string' || message.turn_id === '')) return undefined;
  if (NEEDS_SOURCE.has(type) && typeof message.source_message_id !== 'string') return undefined;
  if (NEEDS_ERROR.has(type) && !isAgentError(message.error)) return undefined;
  if (message.error !== undefined && message.error !== null && !isAgentError(message.error)) return undefined;
  if (type === AgentMessageType.TextDelta && typeof message.text !== 'string') return undefined;
  if ((type === AgentMessageType.TurnStart || type === AgentMessageType.TurnSteer) && !isAgentContent(message.content ?? [])) return undefined;
  // Null fields mean absent: the Python caller sends them, the agent omits them.
  const decoded: Record<string, unknown> = {};
  for (const key in message) if (message[key] !== null) decoded[key] = message[key];
  return decoded as AgentWireMessage;
}

/** A fresh message id (a uuid, as MeshAgent's are). */
export function newMessageId(): string {
  return globalThis.crypto.randomUUID();
}

/**
 * An agent message body ready to send: `type`, a fresh `message_id`,
 * `created_at` now (ISO 8601, UTC), then `fields`; undefined fields are left out.
 */
export function agentMessage(type: string, fields: Readonly<Record<string, unknown>>, now: () => Date = () => new Date()): Record<string, unknown> {
  const body: Record<string, unknown> = { type, message_id: newMessageId(), created_at: now().toISOString() };
  for (const key in fields) if (fields[key] !== undefined) body[key] = fields[key];
  return body;
}

/** The text of a content list: its text items joined. */
export function contentText(content: readonly AgentContent[]): string {
  return content.map((item) => (item.type === 'text' ? item.text : '')).join('');
}
