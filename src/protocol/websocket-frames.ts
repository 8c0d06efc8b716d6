/**
 * RFC 6455 framing of the packets a server sends: each protocol packet is
 * one binary websocket frame (FIN set, opcode 0x2, unmasked, as a server
 * sends it). A sender that writes pre-framed bytes to a socket itself, so
 * that one buffer can go to many recipients, writes the frame headers with
 * these. Plain byte stores, no `Buffer`: runs in Node and browsers.
 */

/** FIN bit set, opcode 0x2 (binary): every frame a server of this protocol sends. */
const FIN_BINARY = 0x82;
const TWO_POW_32 = 0x1_0000_0000;

/** The length of an unmasked frame header for a payload of `length` bytes. */
export function frameHeaderSize(length: number): number {
  return length < 126 ? 2 : length < 0x1_0000 ? 4 : 10;
}

/**
 * Writes an unmasked binary frame header for a payload of `length` bytes at
 * `offset` (the caller sized `wire` with {@link frameHeaderSize}).
 *
 * @returns the offset of the frame's payload.
 */
export function writeFrameHeader(wire: Uint8Array, offset: number, length: number): number {
  wire[offset] = FIN_BINARY;
  if (length < 126) {
    wire[offset + 1] = length;
    return offset + 2;
  }
  if (length < 0x1_0000) {
    wire[offset + 1] = 126;
    wire[offset + 2] = length >>> 8;
    wire[offset + 3] = length;
    return offset + 4;
  }
  wire[offset + 1] = 127;
  writeU32(wire, offset + 2, Math.floor(length / TWO_POW_32));
  writeU32(wire, offset + 6, length >>> 0);
  return offset + 10;
}

function writeU32(wire: Uint8Array, offset: number, value: number): void {
  wire[offset] = value >>> 24;
  wire[offset + 1] = value >>> 16;
  wire[offset + 2] = value >>> 8;
  wire[offset + 3] = value;
}
