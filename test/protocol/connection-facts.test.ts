/**
 * The codec's connection facts, table-tested: which endings are final, room
 * URLs as the client and the server build them (and as the official client
 * builds them), and the handshake's two messages both ways.
 */
import { describe, expect, it } from 'vitest';
import { CloseCode, isFinalClose, isLeaveClose, isSendableCloseCode } from '../../src/protocol/close-codes.js';
import { connectedHeader, decodeConnected, decodeRoomReady, roomReadyHeader } from '../../src/protocol/handshake.js';
import { packEnvelope } from '../../src/protocol/envelope.js';
import { roomPath, roomUrl, roomUrlUnder, webSocketScheme } from '../../src/protocol/room-url.js';
import { meshagent } from '../helpers/official-client.js';

describe('isFinalClose', () => {
  it.each([
    [{ code: CloseCode.Normal }, true],
    [{ code: CloseCode.Abnormal, httpStatus: 403 }, true],
    [{ code: CloseCode.Abnormal, httpStatus: 404 }, true],
    [{ code: CloseCode.Abnormal, httpStatus: 429 }, false],
    [{ code: CloseCode.Abnormal, httpStatus: 503 }, false],
    [{ code: CloseCode.Abnormal }, false],
    [{ code: CloseCode.ServiceRestart }, false],
    [{ code: CloseCode.PolicyViolation }, false],
    [{ code: CloseCode.TokenExpired }, false],
  ])('%j is final: %s', (close, final) => {
    expect(isFinalClose(close)).toBe(final);
  });

  it('keeps the codes the docs and the official clients use', () => {
    expect(CloseCode).toEqual({
      Normal: 1000,
      GoingAway: 1001,
      ProtocolError: 1002,
      UnsupportedData: 1003,
      Abnormal: 1006,
      PolicyViolation: 1008,
      InternalError: 1011,
      ServiceRestart: 1012,
      TokenExpired: 4001,
    });
  });
});

describe('close codes on the wire', () => {
  it.each([
    [1000, true],
    [1001, true],
    [1003, true],
    [1004, false],
    [1005, false],
    [1006, false],
    [1014, true],
    [1015, false],
    [2999, false],
    [3000, true],
    [4001, true],
    [4999, true],
    [5000, false],
  ])('close code %i may be sent in a close frame: %s', (code, sendable) => {
    expect(isSendableCloseCode(code)).toBe(sendable);
  });

  it('a client leaves with 1000 or 1001; any other ending is not a leave', () => {
    expect([1000, 1001, 1006, 1011, 1012, 4001].map(isLeaveClose)).toEqual([true, true, false, false, false, false]);
  });
});

describe('room URLs', () => {
  it.each([
    ['ws://127.0.0.1:8080', 'lobby', 'ws://127.0.0.1:8080/rooms/lobby?token=a.b.c'],
    ['http://127.0.0.1:8080/', 'lobby', 'ws://127.0.0.1:8080/rooms/lobby?token=a.b.c'],
    ['https://h:1/base/', 'my room', 'wss://h:1/base/rooms/my%20room?token=a.b.c'],
    ['wss://h/?v=1', 'a/b', 'wss://h/rooms/a%2Fb?v=1&token=a.b.c'],
  ])('roomUrl(%s, %s) is %s', (base, room, expected) => {
    expect(roomUrl(base, room, 'a.b.c')).toBe(expected);
  });

  it.each([
    ['not a url', 'url "not a url" is not an absolute URL'],
    ['ftp://h', 'has scheme "ftp:"'],
  ])('refuses the base %s', (base, message) => {
    expect(() => roomUrl(base, 'r', 't')).toThrow(message);
  });

  it('refuses an empty room name', () => {
    expect(() => roomUrl('ws://h', '', 't')).toThrow('room must be a non-empty string.');
  });

  it('builds the server-side URL under a base, encoding the name as one segment', () => {
    expect(roomPath('caf\u00e9 #1')).toBe('/rooms/caf%C3%A9%20%231');
    expect(roomUrlUnder('wss://rooms.example.com//', 'lobby')).toBe('wss://rooms.example.com/rooms/lobby');
    expect([webSocketScheme('http:'), webSocketScheme('https:'), webSocketScheme('ws:'), webSocketScheme('file:')]).toEqual(['ws:', 'wss:', 'ws:', undefined]);
  });

  it('agrees with the official client for names that need no encoding (it does not encode)', () => {
    for (const room of ['lobby', 'room-1', 'a_b.c~d']) {
      expect(meshagent.websocketRoomUrl({ roomName: room, apiUrl: 'http://127.0.0.1:8080' })).toBe(roomUrlUnder('ws://127.0.0.1:8080', room));
    }
  });
});

describe('the handshake', () => {
  it('encodes room_ready and connected as the official clients read them, and decodes them back', () => {
    const ready = { roomName: 'lobby', roomUrl: 'ws://h/rooms/lobby', sessionId: 's1' };
    expect(roomReadyHeader(ready)).toEqual({ room_name: 'lobby', room_url: 'ws://h/rooms/lobby', session_id: 's1' });
    expect(decodeRoomReady(packEnvelope(roomReadyHeader(ready)))).toEqual(ready);
    const init = { participantId: 'p1', attributes: { name: 'alice' } };
    expect(connectedHeader(init)).toEqual({ type: 'init', participantId: 'p1', attributes: { name: 'alice' } });
    expect(decodeConnected(packEnvelope(connectedHeader(init)))).toEqual(init);
  });

  it('ignores a connected of another type and names a bad field', () => {
    expect(decodeConnected(packEnvelope({ type: 'other' }))).toBeUndefined();
    expect(() => decodeConnected(packEnvelope({ type: 'init', participantId: 5, attributes: {} }))).toThrow('connected.participantId: expected a non-empty string, got 5.');
    expect(() => decodeConnected(packEnvelope({ type: 'init', participantId: 'p', attributes: [] }))).toThrow('connected.attributes: expected an object');
  });
});
