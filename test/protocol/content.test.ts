import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CONTENT_TYPES,
  ErrorCode,
  MessageType,
  MessagingControlType,
  PARTICIPANT_NOT_FOUND_TEXT,
  contentFromHeader,
  contentToHeader,
  decodeContent,
  encodeContent,
  packEnvelope,
  unpackEnvelope,
  type Content,
} from '../../src/protocol/index.js';
import { CodecError } from '../../src/errors.js';

const bytes = (...values: number[]) => new Uint8Array(values);

/** Every content kind, with the exact wire header and payload the official clients read. */
const table: Array<{ content: Content; header: Record<string, unknown>; payload?: Uint8Array }> = [
  { content: { type: 'json', json: { a: [1, 'two', null] } }, header: { type: 'json', json: { a: [1, 'two', null] } } },
  { content: { type: 'json', json: null }, header: { type: 'json', json: null } },
  { content: { type: 'json', json: 'text' }, header: { type: 'json', json: 'text' } },
  { content: { type: 'empty' }, header: { type: 'empty' } },
  { content: { type: 'error', text: PARTICIPANT_NOT_FOUND_TEXT, code: 1003 }, header: { type: 'error', text: 'the participant was not found', code: 1003 } },
  { content: { type: 'error', text: 'boom' }, header: { type: 'error', text: 'boom' } },
  { content: { type: 'text', text: 'héllo' }, header: { type: 'text', text: 'héllo' } },
  { content: { type: 'binary', headers: { k: 'v' }, data: bytes(0, 1, 255) }, header: { type: 'binary', headers: { k: 'v' } }, payload: bytes(0, 1, 255) },
  { content: { type: 'binary', headers: {}, data: new Uint8Array(0) }, header: { type: 'binary', headers: {} } },
  { content: { type: 'file', name: 'a.png', mimeType: 'image/png', data: bytes(137, 80) }, header: { type: 'file', name: 'a.png', mime_type: 'image/png' }, payload: bytes(137, 80) },
  { content: { type: 'link', name: 'docs', url: 'https://example.com/' }, header: { type: 'link', name: 'docs', url: 'https://example.com/' } },
  { content: { type: 'control', method: 'open' }, header: { type: 'control', method: 'open' } },
  { content: { type: 'control', method: 'close', statusCode: 1000 }, header: { type: 'control', method: 'close', status_code: 1000 } },
  { content: { type: 'control', method: 'close', statusCode: 4000, message: 'bye' }, header: { type: 'control', method: 'close', status_code: 4000, message: 'bye' } },
];

describe('content values: wire shape and round trip', () => {
  it('has the eight content types of the TypeScript client', () => {
    expect([...CONTENT_TYPES].sort()).toEqual(['binary', 'control', 'empty', 'error', 'file', 'json', 'link', 'text']);
    expect(new Set(table.map((row) => row.content.type))).toEqual(new Set(CONTENT_TYPES));
  });

  it.each(table)('$content.type $header -> wire header and back', ({ content, header, payload }) => {
    const split = contentToHeader(content);
    expect(split.header).toEqual(header);
    expect([...split.payload]).toEqual([...(payload ?? [])]);

    const encoded = encodeContent(content);
    const envelope = unpackEnvelope(encoded);
    expect(envelope.header).toEqual(header);
    expect([...envelope.payload]).toEqual([...(payload ?? [])]);

    expect(decodeContent(encoded)).toEqual(content);
  });

  it('round-trips large binary and file payloads (0, 1023, 1024, 1025 and 5 MB bytes)', () => {
    for (const size of [0, 1023, 1024, 1025, 5 * 1024 * 1024]) {
      const data = new Uint8Array(size).map((_, i) => (i * 13) & 0xff);
      const file = decodeContent(encodeContent({ type: 'file', name: 'f', mimeType: 'application/octet-stream', data }));
      expect(file.type).toBe('file');
      expect(Buffer.from((file as { data: Uint8Array }).data).equals(Buffer.from(data))).toBe(true);
      const binary = decodeContent(encodeContent({ type: 'binary', headers: { size }, data }));
      expect((binary as { data: Uint8Array }).data.byteLength).toBe(size);
    }
  });

  const contentArb: fc.Arbitrary<Content> = fc.oneof(
    fc.record({ type: fc.constant('json' as const), json: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown) }),
    fc.constant({ type: 'empty' as const }),
    fc.oneof(
      fc.record({ type: fc.constant('error' as const), text: fc.string({ unit: 'binary' }) }),
      fc.record({ type: fc.constant('error' as const), text: fc.string({ unit: 'binary' }), code: fc.integer() }),
    ),
    fc.record({ type: fc.constant('text' as const), text: fc.string({ unit: 'binary' }) }),
    fc.record({
      type: fc.constant('binary' as const),
      headers: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown)),
      data: fc.uint8Array({ maxLength: 2048 }),
    }),
    fc.record({ type: fc.constant('file' as const), name: fc.string(), mimeType: fc.string(), data: fc.uint8Array({ maxLength: 2048 }) }),
    fc.record({ type: fc.constant('link' as const), name: fc.string(), url: fc.webUrl() }),
    fc.constant({ type: 'control' as const, method: 'open' as const }),
    fc.oneof(
      fc.record({ type: fc.constant('control' as const), method: fc.constant('close' as const), statusCode: fc.integer({ min: 1000, max: 4999 }) }),
      fc.record({ type: fc.constant('control' as const), method: fc.constant('close' as const), statusCode: fc.integer({ min: 1000, max: 4999 }), message: fc.string() }),
    ),
  );

  it('keeps a "__proto__" key in binary headers as a plain key', () => {
    const headers = JSON.parse('{"__proto__":{"x":1},"k":2}') as Record<string, unknown>;
    const decoded = decodeContent(encodeContent({ type: 'binary', headers, data: new Uint8Array([1]) }));
    expect(JSON.stringify((decoded as { headers: unknown }).headers)).toBe('{"__proto__":{"x":1},"k":2}');
  });

  it('property: decodeContent(encodeContent(c)) equals c for any content', () => {
    fc.assert(
      fc.property(contentArb, (content) => {
        expect(decodeContent(encodeContent(content))).toEqual(content);
      }),
      { numRuns: 500 },
    );
  });
});

describe('contentFromHeader leniency the official clients need', () => {
  it('accepts a numeric-string error code', () => {
    expect(contentFromHeader({ type: 'error', text: 'x', code: '1003' })).toEqual({ type: 'error', text: 'x', code: 1003 });
  });

  it('treats a null error code as absent', () => {
    expect(contentFromHeader({ type: 'error', text: 'x', code: null })).toEqual({ type: 'error', text: 'x' });
  });

  it('defaults a close status to 1000 and keeps a null message out', () => {
    expect(contentFromHeader({ type: 'control', method: 'close', message: null })).toEqual({ type: 'control', method: 'close', statusCode: 1000 });
  });

  it('defaults binary headers to {} when absent or null', () => {
    expect(contentFromHeader({ type: 'binary' }, bytes(1))).toEqual({ type: 'binary', headers: {}, data: bytes(1) });
    expect(contentFromHeader({ type: 'binary', headers: null })).toEqual({ type: 'binary', headers: {}, data: new Uint8Array(0) });
  });

  it('ignores unknown header keys (e.g. Python __meshagent__)', () => {
    expect(contentFromHeader({ type: 'text', text: 't', __meshagent__: { v: 1 } })).toEqual({ type: 'text', text: 't' });
  });
});

describe('content validation errors name the field', () => {
  const cases: Array<{ header: Record<string, unknown>; message: RegExp }> = [
    { header: {}, message: /^invalid content header, type: .*'json' \| 'empty'.* \(got undefined\)\.$/ },
    { header: { type: 'raw', outputs: [] }, message: /^invalid content header, type: .*\(got "raw"\)\.$/ },
    { header: { type: 'json' }, message: /^invalid content header, json: .*\(got undefined\)\.$/ },
    { header: { type: 'error' }, message: /^invalid content header, text: .*expected string.*\(got undefined\)\.$/ },
    { header: { type: 'error', text: 'x', code: 1.5 }, message: /^invalid content header, code: .*\(got 1\.5\)\.$/ },
    { header: { type: 'error', text: 'x', code: '10x' }, message: /^invalid content header, code: .*\(got "10x"\)\.$/ },
    { header: { type: 'text', text: 5 }, message: /^invalid content header, text: .*expected string.*\(got 5\)\.$/ },
    { header: { type: 'binary', headers: [] }, message: /^invalid content header, headers: .*\(got \[\]\)\.$/ },
    { header: { type: 'file', name: 'a' }, message: /^invalid content header, mime_type: .*\(got undefined\)\.$/ },
    { header: { type: 'file', mime_type: 'a' }, message: /^invalid content header, name: .*\(got undefined\)\.$/ },
    { header: { type: 'link', name: 'n', url: 3 }, message: /^invalid content header, url: .*\(got 3\)\.$/ },
    { header: { type: 'control', method: 'pause' }, message: /^invalid content header, method: .*"open"\|"close".*\(got "pause"\)\.$/ },
    { header: { type: 'control', method: 'close', status_code: 'x' }, message: /^invalid content header, status_code: .*\(got "x"\)\.$/ },
  ];

  it.each(cases)('rejects $header', ({ header, message }) => {
    let error: unknown;
    try {
      contentFromHeader(header);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CodecError);
    expect((error as Error).message).toMatch(message);
  });

  it('decodeContent reports envelope errors before content errors', () => {
    expect(() => decodeContent(new Uint8Array(3))).toThrow(/shorter than its 8-byte length prefix/);
    expect(() => decodeContent(packEnvelope({ type: 'nope' }))).toThrow(/invalid content header, type/);
  });

  it('contentToHeader refuses an unknown type, listing the known ones', () => {
    expect(() => contentToHeader({ type: 'raw' } as unknown as Content)).toThrow(
      new CodecError('unknown content type "raw"; expected one of json, empty, error, text, binary, file, link, control.'),
    );
  });
});

describe('protocol constants', () => {
  it('error codes have the MeshAgent values', () => {
    expect(ErrorCode).toEqual({
      PermissionDenied: 1001,
      InvalidRequest: 1002,
      NotFound: 1003,
      AlreadyExists: 1004,
      Conflict: 1005,
      InvalidState: 1006,
      DependencyMissing: 1007,
      OperationFailed: 1008,
      Timeout: 1009,
      UnexpectedResponseType: 1100,
    });
  });

  it('the participant-not-found text is exactly what the TS client compares', () => {
    expect(PARTICIPANT_NOT_FOUND_TEXT).toBe('the participant was not found');
  });

  it('message and control types are the wire strings', () => {
    expect(MessageType).toEqual({
      RoomReady: 'room_ready',
      Connected: 'connected',
      Response: '__response__',
      InvokeTool: 'room.invoke_tool',
      SetAttributes: 'set_attributes',
      MessagingSend: 'messaging.send',
      RoomStatus: 'room.status',
      ToolCallRequestChunk: 'room.tool_call_request_chunk',
      ToolCallResponse: 'room.tool_call_response',
      ToolCallResponseChunk: 'room.tool_call_response_chunk',
      MessagingToolCall: 'room.tool_call.messaging',
      MessagingToolCallRequestChunk: 'room.tool_call_request_chunk.messaging',
    });
    expect(MessagingControlType).toEqual({
      Enabled: 'messaging.enabled',
      ParticipantEnabled: 'participant.enabled',
      ParticipantDisabled: 'participant.disabled',
      ParticipantAttributes: 'participant.attributes',
    });
  });
});
