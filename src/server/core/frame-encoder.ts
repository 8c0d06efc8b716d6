/**
 * Encodes the server's outgoing messages (responses and pushes) straight into
 * wire frames that share one buffer per message. A push is encoded once and
 * the same frames go to every recipient.
 */
import {
  DATA_PACKET_HEADER_SIZE,
  ENVELOPE_LENGTH_SIZE,
  FIRST_PACKET_HEADER_SIZE,
  PACKET_DATA_SIZE,
  encodeContent,
  encodeType,
  type Content,
} from '../../protocol/index.js';

const TWO_POW_32 = 0x1_0000_0000;
const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();

const RESPONSE_TYPE = encodeType('__response__');
const MESSAGING_SEND_TYPE = encodeType('messaging.send');
const EMPTY_CONTENT = encodeContent({ type: 'empty' });

/** The frames of one protocol message, ready to be written in order. */
export type Frames = readonly Uint8Array[];

/**
 * Encodes an envelope (JSON header text plus payload) as the frames of one
 * message, all views into a single buffer.
 */
export function encodeEnvelopeFrames(id: number, typeBytes: Uint8Array, headerJson: string, payload: Uint8Array = EMPTY): Uint8Array[] {
  const header = utf8.encode(headerJson);
  const dataLength = ENVELOPE_LENGTH_SIZE + header.byteLength + payload.byteLength;
  const count = Math.ceil(dataLength / PACKET_DATA_SIZE);
  const firstLength = FIRST_PACKET_HEADER_SIZE + typeBytes.byteLength;
  const buffer = new Uint8Array(firstLength + count * DATA_PACKET_HEADER_SIZE + dataLength);
  const view = new DataView(buffer.buffer);
  const high = Math.floor(id / TWO_POW_32);
  const low = id >>> 0;
  view.setUint32(0, high);
  view.setUint32(4, low);
  view.setUint32(8, 0);
  view.setUint32(12, count);
  buffer.set(typeBytes, FIRST_PACKET_HEADER_SIZE);
  const frames = new Array<Uint8Array>(count + 1);
  frames[0] = buffer.subarray(0, firstLength);
  // Data positions: [0, 8) length prefix, [8, 8+h) header, then payload.
  const headerEnd = ENVELOPE_LENGTH_SIZE + header.byteLength;
  let offset = firstLength;
  for (let index = 1; index <= count; index++) {
    const start = (index - 1) * PACKET_DATA_SIZE;
    const end = Math.min(start + PACKET_DATA_SIZE, dataLength);
    view.setUint32(offset, high);
    view.setUint32(offset + 4, low);
    view.setUint32(offset + 8, index);
    const body = offset + DATA_PACKET_HEADER_SIZE;
    for (let pos = start; pos < end; ) {
      if (pos < ENVELOPE_LENGTH_SIZE) {
        // The 8-byte big-endian length; it always fits in the first packet.
        view.setUint32(body, Math.floor(header.byteLength / TWO_POW_32));
        view.setUint32(body + 4, header.byteLength >>> 0);
        pos = ENVELOPE_LENGTH_SIZE;
      } else if (pos < headerEnd) {
        const stop = Math.min(end, headerEnd);
        buffer.set(header.subarray(pos - ENVELOPE_LENGTH_SIZE, stop - ENVELOPE_LENGTH_SIZE), body + (pos - start));
        pos = stop;
      } else {
        buffer.set(payload.subarray(pos - headerEnd, end - headerEnd), body + (pos - start));
        pos = end;
      }
    }
    frames[index] = buffer.subarray(offset, body + (end - start));
    offset = body + (end - start);
  }
  return frames;
}

/**
 * Encodes already-built message data as the frames of one message, all
 * views into a single buffer (the codec's `encodePacketsWithTypeBytes`
 * allocates one buffer per frame).
 */
export function encodeDataFrames(id: number, typeBytes: Uint8Array, data: Uint8Array): Uint8Array[] {
  const count = Math.ceil(data.byteLength / PACKET_DATA_SIZE);
  const firstLength = FIRST_PACKET_HEADER_SIZE + typeBytes.byteLength;
  const buffer = new Uint8Array(firstLength + count * DATA_PACKET_HEADER_SIZE + data.byteLength);
  const view = new DataView(buffer.buffer);
  const high = Math.floor(id / TWO_POW_32);
  const low = id >>> 0;
  view.setUint32(0, high);
  view.setUint32(4, low);
  view.setUint32(12, count);
  buffer.set(typeBytes, FIRST_PACKET_HEADER_SIZE);
  const frames = new Array<Uint8Array>(count + 1);
  frames[0] = buffer.subarray(0, firstLength);
  let offset = firstLength;
  for (let index = 1; index <= count; index++) {
    const start = (index - 1) * PACKET_DATA_SIZE;
    const end = Math.min(start + PACKET_DATA_SIZE, data.byteLength);
    view.setUint32(offset, high);
    view.setUint32(offset + 4, low);
    view.setUint32(offset + 8, index);
    buffer.set(data.subarray(start, end), offset + DATA_PACKET_HEADER_SIZE);
    const next = offset + DATA_PACKET_HEADER_SIZE + (end - start);
    frames[index] = buffer.subarray(offset, next);
    offset = next;
  }
  return frames;
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
  empty(requestId: number): Frames {
    return encodeDataFrames(requestId, RESPONSE_TYPE, EMPTY_CONTENT);
  }

  /** `__response__` with `error` content. */
  error(requestId: number, text: string, code: number): Frames {
    return encodeDataFrames(requestId, RESPONSE_TYPE, encodeContent({ type: 'error', text, code }));
  }

  /** `__response__` with any content. */
  response(requestId: number, content: Content): Frames {
    return encodeDataFrames(requestId, RESPONSE_TYPE, encodeContent(content));
  }

  /** A push of any type with a header object and optional payload. */
  push(type: string, header: object, payload?: Uint8Array): Frames {
    return encodeEnvelopeFrames(this.pushId(), encodeType(type), JSON.stringify(header), payload);
  }

  /**
   * A `messaging.send` push. `prefix` is the sender's cached
   * `{"from_participant_id":"…","type":` text and `messageJson` is
   * already-validated JSON text, spliced in without re-serialising.
   */
  messaging(prefix: string, type: string, messageJson: string, payload?: Uint8Array): Frames {
    const headerJson = prefix + JSON.stringify(type) + ',"message":' + messageJson + '}';
    return encodeEnvelopeFrames(this.pushId(), MESSAGING_SEND_TYPE, headerJson, payload);
  }

  /** A `messaging.send` push carrying a presence control message object. */
  control(prefix: string, type: string, message: object): Frames {
    return this.messaging(prefix, type, JSON.stringify(message));
  }
}

/** The cached header prefix of the `messaging.send` pushes from `participantId`. */
export function messagingPrefix(participantId: string): string {
  return '{"from_participant_id":' + JSON.stringify(participantId) + ',"type":';
}
