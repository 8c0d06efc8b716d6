/**
 * Encodes the server's outgoing messages (responses and pushes) straight into
 * websocket frames that share one buffer per message (see
 * {@link OutgoingMessage}). A push is encoded once and the same buffer goes
 * to every recipient.
 */
import { ENVELOPE_LENGTH_SIZE, MessageType, PACKET_DATA_SIZE, encodeContent, encodeType, type Content, type MessageId } from '../../protocol/index.js';
import { IdTemplate, OutgoingMessage, encodeListEnvelope, encodeMessage, encodeShortEnvelope } from './outgoing-message.js';

export { OutgoingMessage } from './outgoing-message.js';

const RESPONSE_TYPE = encodeType(MessageType.Response);
const MESSAGING_SEND_TYPE = encodeType(MessageType.MessagingSend);
const EMPTY_RESPONSE = new IdTemplate(RESPONSE_TYPE, encodeContent({ type: 'empty' }));
// The end of a user message's header, with roomstate's broadcast flag.
const BROADCAST_TAIL = ',"broadcast":true}';
const DIRECT_TAIL = ',"broadcast":false}';

/** Encodes an envelope (JSON header text plus payload) as one outgoing message. */
export function encodeEnvelope(id: MessageId, typeBytes: Uint8Array, headerJson: string, payload?: Uint8Array): OutgoingMessage {
  // A text has at least as many UTF-8 bytes as UTF-16 units: only one that may fit one packet is sized.
  if ((payload === undefined || payload.byteLength === 0) && ENVELOPE_LENGTH_SIZE + headerJson.length <= PACKET_DATA_SIZE) {
    const headerBytes = Buffer.byteLength(headerJson, 'utf8');
    if (ENVELOPE_LENGTH_SIZE + headerBytes <= PACKET_DATA_SIZE) return encodeShortEnvelope(id, typeBytes, headerJson, headerBytes);
  }
  return encodeMessage(id, typeBytes, true, Buffer.from(headerJson, 'utf8'), payload);
}

/** Encodes already-built message data as one outgoing message. */
export function encodeData(id: MessageId, typeBytes: Uint8Array, data: Uint8Array): OutgoingMessage {
  return encodeMessage(id, typeBytes, false, data);
}

/** The protocol packets of {@link encodeEnvelope}, as views into one buffer. */
export function encodeEnvelopeFrames(id: MessageId, typeBytes: Uint8Array, headerJson: string, payload?: Uint8Array): readonly Uint8Array[] {
  return encodeEnvelope(id, typeBytes, headerJson, payload).packets;
}

/** The protocol packets of {@link encodeData}, as views into one buffer. */
export function encodeDataFrames(id: MessageId, typeBytes: Uint8Array, data: Uint8Array): readonly Uint8Array[] {
  return encodeData(id, typeBytes, data).packets;
}

/**
 * Builds every outgoing message of one server. Push ids come from one
 * server-wide counter; responses reuse their request's id.
 */
export class FrameEncoder {
  private nextPushId = 1;

  /** A fresh id for a server-initiated push. */
  pushId(): number {
    const id = this.nextPushId;
    this.nextPushId = id >= Number.MAX_SAFE_INTEGER ? 1 : id + 1;
    return id;
  }

  /** `__response__` with `empty` content. */
  empty(requestId: MessageId): OutgoingMessage {
    return EMPTY_RESPONSE.encode(requestId);
  }

  /** `__response__` with `error` content. */
  error(requestId: MessageId, text: string, code: number): OutgoingMessage {
    return encodeData(requestId, RESPONSE_TYPE, encodeContent({ type: 'error', text, code }));
  }

  /** `__response__` with any content. */
  response(requestId: MessageId, content: Content): OutgoingMessage {
    return encodeData(requestId, RESPONSE_TYPE, encodeContent(content));
  }

  /** A push of any type with a header object and optional payload. */
  push(type: string, header: object, payload?: Uint8Array): OutgoingMessage {
    return encodeEnvelope(this.pushId(), encodeType(type), JSON.stringify(header), payload);
  }

  /**
   * A `messaging.send` push. `prefix` is the sender's cached
   * `{"from_participant_id":"…","type":` text and `messageJson` is
   * already-validated JSON text, spliced in without re-serialising.
   * `broadcast` is set for user messages (true for a broadcast, false for a
   * direct send): roomstate's `"broadcast"` header field, which official
   * clients ignore (docs/PROTOCOL.md, "Extension: broadcast flag");
   * presence pushes leave it out.
   */
  messaging(prefix: string, type: string, messageJson: string, payload?: Uint8Array, broadcast?: boolean): OutgoingMessage {
    const tail = broadcast === undefined ? '}' : broadcast ? BROADCAST_TAIL : DIRECT_TAIL;
    const headerJson = prefix + JSON.stringify(type) + ',"message":' + messageJson + tail;
    return encodeEnvelope(this.pushId(), MESSAGING_SEND_TYPE, headerJson, payload);
  }

  /**
   * A presence push (no broadcast flag) whose `message` body is `open`, the
   * `items` joined by `separator`, then `close`: each item's text is written
   * straight into the frames (see {@link encodeListEnvelope}); `itemsBytes`
   * is the items' total UTF-8 length.
   */
  messagingList(prefix: string, type: string, open: string, items: readonly string[], itemsBytes: number, separator: string, close: string): OutgoingMessage {
    const head = prefix + JSON.stringify(type) + ',"message":' + open;
    return encodeListEnvelope(this.pushId(), MESSAGING_SEND_TYPE, head, items, itemsBytes, separator, close + '}');
  }
}

/** The cached header prefix of the `messaging.send` pushes from `participantId`. */
export function messagingPrefix(participantId: string): string {
  return '{"from_participant_id":' + JSON.stringify(participantId) + ',"type":';
}
