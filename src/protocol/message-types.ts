/** Protocol message type strings (the packet-0 type). See docs/PROTOCOL.md#requests-and-responses. */
export const MessageType = {
  RoomReady: 'room_ready',
  Connected: 'connected',
  Response: '__response__',
  InvokeTool: 'room.invoke_tool',
  SetAttributes: 'set_attributes',
  MessagingSend: 'messaging.send',
  RoomStatus: 'room.status',
  /** A caller's chunk of a streaming tool call's request (messaging streams). */
  ToolCallRequestChunk: 'room.tool_call_request_chunk',
  /** A callee's answer to a tool call pushed to it (its message id is the push's). */
  ToolCallResponse: 'room.tool_call_response',
  /** A callee's chunk of a streaming tool call's response; relayed to the caller under the same type. */
  ToolCallResponseChunk: 'room.tool_call_response_chunk',
  /** A messaging stream offered to its target, as a tool call of its `messaging` toolkit. */
  MessagingToolCall: 'room.tool_call.messaging',
  /** A caller's request chunk, relayed to the target of a messaging stream. */
  MessagingToolCallRequestChunk: 'room.tool_call_request_chunk.messaging',
} as const;

/**
 * Control `type`s carried inside a `messaging.send` push: presence, not user
 * messages. Clients must not surface them as user messages.
 */
export const MessagingControlType = {
  Enabled: 'messaging.enabled',
  ParticipantEnabled: 'participant.enabled',
  ParticipantDisabled: 'participant.disabled',
  ParticipantAttributes: 'participant.attributes',
} as const;
