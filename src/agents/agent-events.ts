/**
 * A turn's agent messages, typed: each decoded message becomes one
 * {@link AgentEvent} with a `kind` to switch on, the fields that kind
 * needs, and the message itself as it came (`message`).
 *
 * @packageDocumentation
 */
import { AgentMessageType, type AgentError, type AgentWireMessage } from '../protocol/agent-turns.js';

/** The phases of a tool call, by their protocol suffix. */
export type ToolCallPhase = 'pending' | 'in_progress' | 'started' | 'arguments_delta' | 'log_delta' | 'ended';

/** A turn's event: a typed view of one agent message. */
export type AgentEvent =
  | { readonly kind: 'accepted'; readonly turnId: string; readonly message: AgentWireMessage }
  | { readonly kind: 'rejected'; readonly error: AgentError; readonly message: AgentWireMessage }
  | { readonly kind: 'started'; readonly turnId: string; readonly message: AgentWireMessage }
  | { readonly kind: 'ended'; readonly error: AgentError | undefined; readonly message: AgentWireMessage }
  | { readonly kind: 'text'; readonly phase: 'started' | 'ended'; readonly itemId: string; readonly message: AgentWireMessage }
  | { readonly kind: 'text.delta'; readonly itemId: string; readonly text: string; readonly message: AgentWireMessage }
  | { readonly kind: 'reasoning.delta'; readonly itemId: string; readonly text: string; readonly message: AgentWireMessage }
  | {
      readonly kind: 'tool_call';
      readonly phase: ToolCallPhase;
      readonly itemId: string;
      readonly toolkit: string | undefined;
      readonly tool: string | undefined;
      readonly arguments: Readonly<Record<string, unknown>> | undefined;
      /** `arguments_delta`: the next piece of the arguments' JSON. */
      readonly delta: string | undefined;
      /** `ended`: the error, if the call failed. */
      readonly error: AgentError | undefined;
      readonly message: AgentWireMessage;
    }
  | { readonly kind: 'status'; readonly status: string | undefined; readonly mode: 'busy' | 'steerable' | undefined; readonly message: AgentWireMessage }
  | { readonly kind: 'steer'; readonly phase: 'accepted' | 'applied' | 'rejected'; readonly steerId: string; readonly error: AgentError | undefined; readonly message: AgentWireMessage }
  | { readonly kind: 'interrupt'; readonly phase: 'accepted' | 'interrupted'; readonly message: AgentWireMessage }
  /** Anything else of the turn (usage, files, model changes, requests): the message as it came. */
  | { readonly kind: 'other'; readonly type: string; readonly message: AgentWireMessage };

const TOOL_PREFIX = 'meshagent.agent.tool_call.';
const TOOL_PHASES = new Set<string>(['pending', 'in_progress', 'started', 'arguments_delta', 'log_delta', 'ended']);

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The typed {@link AgentEvent} of a decoded agent message. */
export function agentEventOf(message: AgentWireMessage): AgentEvent {
  const itemId = text(message.item_id) ?? '';
  switch (message.type) {
    case AgentMessageType.TurnStartAccepted:
      return { kind: 'accepted', turnId: message.turn_id ?? '', message };
    case AgentMessageType.TurnStartRejected:
      return { kind: 'rejected', error: message.error!, message };
    case AgentMessageType.TurnStarted:
      return { kind: 'started', turnId: message.turn_id!, message };
    case AgentMessageType.TurnEnded:
      return { kind: 'ended', error: message.error, message };
    case AgentMessageType.TextStarted:
    case AgentMessageType.TextEnded:
      return { kind: 'text', phase: message.type === AgentMessageType.TextStarted ? 'started' : 'ended', itemId, message };
    case AgentMessageType.TextDelta:
      return { kind: 'text.delta', itemId, text: message.text as string, message };
    case AgentMessageType.ReasoningDelta:
      return { kind: 'reasoning.delta', itemId, text: text(message.text) ?? '', message };
    case AgentMessageType.ThreadStatus: {
      const mode = message.mode === 'busy' || message.mode === 'steerable' ? message.mode : undefined;
      return { kind: 'status', status: text(message.status), mode, message };
    }
    case AgentMessageType.TurnSteerAccepted:
    case AgentMessageType.TurnSteered:
    case AgentMessageType.TurnSteerRejected: {
      const phase = message.type === AgentMessageType.TurnSteerAccepted ? 'accepted' : message.type === AgentMessageType.TurnSteered ? 'applied' : 'rejected';
      return { kind: 'steer', phase, steerId: message.source_message_id!, error: message.error, message };
    }
    case AgentMessageType.TurnInterruptAccepted:
    case AgentMessageType.TurnInterrupted:
      return { kind: 'interrupt', phase: message.type === AgentMessageType.TurnInterruptAccepted ? 'accepted' : 'interrupted', message };
  }
  if (message.type.startsWith(TOOL_PREFIX) && TOOL_PHASES.has(message.type.slice(TOOL_PREFIX.length))) {
    const args = message.arguments;
    return {
      kind: 'tool_call',
      phase: message.type.slice(TOOL_PREFIX.length) as ToolCallPhase,
      itemId,
      toolkit: text(message.toolkit),
      tool: text(message.tool),
      arguments: typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : undefined,
      delta: text(message.delta),
      error: message.error,
      message,
    };
  }
  return { kind: 'other', type: message.type, message };
}
