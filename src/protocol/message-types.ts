/** Protocol message type strings (the packet-0 type). See docs/PROTOCOL.md#requests-and-responses. */
export const MessageType = {
  RoomReady: 'room_ready',
  Connected: 'connected',
  Response: '__response__',
  InvokeTool: 'room.invoke_tool',
  SetAttributes: 'set_attributes',
  MessagingSend: 'messaging.send',
  RoomStatus: 'room.status',
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
