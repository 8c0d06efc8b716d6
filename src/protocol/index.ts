/**
 * The MeshAgent room protocol codec: packets, envelopes, content values and
 * error codes. Free of I/O; runs in Node and browsers. The wire format it
 * encodes is documented in docs/PROTOCOL.md.
 *
 * @packageDocumentation
 */
export {
  PACKET_DATA_SIZE,
  FIRST_PACKET_HEADER_SIZE,
  DATA_PACKET_HEADER_SIZE,
  encodePackets,
  encodePacketsWithTypeBytes,
  encodeType,
  messageIdFromParts,
  messageIdParts,
  PacketReassembler,
} from './packets.js';
export type { MessageId, ProtocolMessage, PacketReassemblerOptions } from './packets.js';
export { ENVELOPE_LENGTH_SIZE, packEnvelope, packEnvelopeJson, unpackEnvelope, exceedsDepth } from './envelope.js';
export type { Envelope, UnpackEnvelopeOptions } from './envelope.js';
export { CONTENT_TYPES, contentFromHeader, contentToHeader, encodeContent, decodeContent, formatIssue } from './content.js';
export type {
  Content,
  ContentType,
  JsonContent,
  EmptyContent,
  ErrorContent,
  TextContent,
  BinaryContent,
  FileContent,
  LinkContent,
  ControlContent,
} from './content.js';
export { ErrorCode, PARTICIPANT_NOT_FOUND_TEXT } from './error-codes.js';
export { MessageType, MessagingControlType } from './message-types.js';
export { CloseCode, CloseReason, FINAL_UPGRADE_STATUSES, isFinalClose, isLeaveClose, isSendableCloseCode } from './close-codes.js';
export { ROOMS_PATH, TOKEN_QUERY_PARAMETER, TOKEN_SUBPROTOCOL_PREFIX, roomPath, roomUrl, roomUrlUnder, webSocketScheme } from './room-url.js';
export { ACCOUNTS_PATH, CONNECT_ROUTE, API_KEY_GRANT, DEFAULT_API_KEY_PROJECT, connectPath, parseConnectPath } from './accounts.js';
export type { RoomConnectionInfo } from './accounts.js';
export { toBase64, decodeBase64Field, isStandardBase64 } from './base64.js';
export {
  RESUME_REQUEST_PARAMETER,
  RESUME_KEY_PARAMETER,
  RESUME_RECEIVED_PARAMETER,
  RESUME_FIELD,
  ResumeRefusal,
  resumeQuery,
  parseResumeAsk,
  resumeAnswerField,
  decodeResumeAnswer,
} from './resume.js';
export type { ResumeAsk, ResumeAnswer } from './resume.js';
export { MESSAGING_TOOLKIT, MESSAGING_TOOLS, isMessagingTool, encodeInvoke, messageArguments } from './messaging.js';
export type { MessagingTool } from './messaging.js';
export { roomReadyHeader, connectedHeader, decodeRoomReady, decodeConnected } from './handshake.js';
export type { RoomReady, ConnectedInit } from './handshake.js';
export {
  PRESENCE_TYPES,
  isPresenceType,
  attributesJson,
  memberJson,
  snapshotBodyJson,
  participantEnabledBodyJson,
  participantDisabledBodyJson,
  participantAttributesBodyJson,
  decodePresence,
} from './presence.js';
export type { PresenceMember, PresenceMessage } from './presence.js';
