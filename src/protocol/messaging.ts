/**
 * The messaging toolkit on the wire: its name, its tools, the
 * `room.invoke_tool` header that calls one, and the `arguments.json` of
 * `send` and `broadcast`. The server's validation of these arguments lives
 * with its handlers; what they contain is defined here.
 * See docs/PROTOCOL.md#the-messaging-toolkit. Free of I/O.
 */
import { packEnvelope, packEnvelopeAscii } from './envelope.js';
import { base64Length, writeBase64 } from './base64.js';

/** The toolkit name in `room.invoke_tool`. */
export const MESSAGING_TOOLKIT = 'messaging';

/** The tools of the messaging toolkit. */
export const MESSAGING_TOOLS = ['enable', 'disable', 'send', 'broadcast', 'stream'] as const;

/** One of the {@link MESSAGING_TOOLS}. */
export type MessagingTool = (typeof MESSAGING_TOOLS)[number];

/** Whether `tool` names a messaging tool. */
export function isMessagingTool(tool: string): tool is MessagingTool {
  return (MESSAGING_TOOLS as readonly string[]).includes(tool);
}

/**
 * Encodes a `room.invoke_tool` request of the messaging toolkit. `enable`
 * and `disable` carry a `tool_call_id`, as 0.39.9 sends them. An
 * `attachment` becomes `arguments.json.attachment_base64`, its base64
 * written straight into the output buffer.
 */
export function encodeInvoke(tool: MessagingTool, json: Record<string, unknown>, toolCallId?: string, attachment?: Uint8Array): Uint8Array {
  const header: Record<string, unknown> = { toolkit: MESSAGING_TOOLKIT, tool, arguments: { type: 'json', json } };
  if (toolCallId !== undefined) header.tool_call_id = toolCallId;
  if (attachment === undefined) return packEnvelope(header);
  // `{...,"json":{...}}}` becomes `{...,"json":{...,"attachment_base64":"<base64>"}}}` (the header ends with the json object).
  const text = JSON.stringify(header);
  const head = `${text.slice(0, -3)},"attachment_base64":"`;
  return packEnvelopeAscii(head, base64Length(attachment.byteLength), (out, offset) => writeBase64(attachment, out, offset), `"${text.slice(-3)}`);
}

/**
 * The `arguments.json` of `send` (with a target) or `broadcast` (without),
 * without the attachment: {@link encodeInvoke} adds `attachment_base64`.
 */
export function messageArguments(input: {
  toParticipantId?: string;
  type: string;
  message: unknown;
  /** `JSON.stringify(message)`, when the caller already has it (validation computes it). */
  messageJson?: string;
}): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  if (input.toParticipantId !== undefined) json.to_participant_id = input.toParticipantId;
  json.type = input.type;
  json.message_json = input.messageJson ?? JSON.stringify(input.message);
  return json;
}
