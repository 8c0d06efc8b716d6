/**
 * Messaging streams (`messaging.stream` of the Python SDK 0.47.1 and later):
 * a long-lived two-way channel between two participants, relayed by the
 * server. The caller opens it as a streaming `room.invoke_tool`; the server
 * offers it to the target as a `room.tool_call.messaging` tool call, relays
 * the caller's request chunks to the target and the target's response chunks
 * back, and tears it down when either side closes or leaves.
 *
 * Both ends must be on this server node (a stream to a participant on another
 * cluster node is refused). The wire shapes are in docs/PROTOCOL.md.
 */
import {
  ErrorCode,
  MessageType,
  PARTICIPANT_NOT_FOUND_TEXT,
  contentFromHeader,
  contentToHeader,
  encodeType,
  type Content,
  type MessageId,
} from '../../protocol/index.js';
import { describeValue } from '../../errors.js';
import { encodeEnvelope } from './frame-encoder.js';
import type { RequestScope, StreamRelay } from './request-scope.js';
import { RequestError } from './request-error.js';
import type { Timers } from './token-bucket.js';
import { checkUserMessage } from './messaging-toolkit.js';
import { parseBroadcastArguments, parseSendArguments } from './validation.js';

/** How long a stream may wait for its first chunk and the target's acceptance. */
export const STREAM_ACCEPT_TIMEOUT_MS = 30_000;
/** Streams one participant may have open at once (as caller or target). */
export const MAX_STREAMS_PER_PARTICIPANT = 64;

const TOOL_CALL_TYPE = encodeType(MessageType.MessagingToolCall);

type Phase = 'addressing' | 'offered' | 'open';

interface Stream {
  /** The id both ends see (`tool_call_id` at the target, `stream_id` at both). */
  readonly id: string;
  readonly caller: RequestScope;
  /** The caller's `room.invoke_tool` request, answered on acceptance. */
  readonly callerRequestId: MessageId;
  /** The caller's own `tool_call_id`. */
  readonly callerToolCallId: string;
  phase: Phase;
  target?: RequestScope;
  /** The id of the tool call pushed to the target, which its `room.tool_call_response` carries. */
  targetRequestId?: number;
  timer: unknown;
}

/** Relays the messaging streams of one server core. */
export class MessagingStreamRelay implements StreamRelay {
  private readonly sessions = new Map<string, RequestScope>();
  private readonly byCaller = new Map<string, Stream>();
  private readonly byId = new Map<string, Stream>();
  private readonly byTargetRequest = new Map<number, Stream>();
  private readonly streamsOf = new Map<string, Set<Stream>>();

  constructor(
    private readonly timers: Timers,
    private readonly createId: () => string,
  ) {}

  /** A session on this node that can take part in streams. */
  attach(session: RequestScope): void {
    this.sessions.set(session.id, session);
  }

  /** The session left: its streams end, and their other ends are told. */
  detach(session: RequestScope): void {
    this.sessions.delete(session.id);
    const streams = this.streamsOf.get(session.id);
    if (streams === undefined) return;
    for (const stream of [...streams]) {
      if (stream.caller === session) {
        this.closeTowardsTarget(stream);
      } else if (stream.phase === 'open') {
        this.chunkToCaller(stream, { type: 'json', json: { kind: 'closed', reason: 'participant_left', message: 'the other participant left the room' } });
        this.chunkToCaller(stream, { type: 'control', method: 'close' });
      } else {
        stream.caller.replyError(stream.callerRequestId, `${PARTICIPANT_NOT_FOUND_TEXT}: it left before accepting the messaging stream`, ErrorCode.NotFound);
      }
      this.remove(stream);
    }
  }

  /** `messaging.stream` invoked: registers the stream; the first request chunk addresses it. */
  open(caller: RequestScope, requestId: MessageId, toolCallId: string | null | undefined, args: { type: string; [key: string]: unknown }): void {
    if (args.type !== 'control' || args.method !== 'open') {
      throw new RequestError(`arguments: messaging.stream starts with an open control chunk (got ${describeValue(args.type)} content).`, ErrorCode.InvalidRequest);
    }
    if (typeof toolCallId !== 'string' || toolCallId === '') {
      throw new RequestError('tool_call_id: messaging.stream needs a non-empty tool_call_id to match its request chunks.', ErrorCode.InvalidRequest);
    }
    const key = callerKey(caller.id, toolCallId);
    if (this.byCaller.has(key)) throw new RequestError(`tool_call_id: ${describeValue(toolCallId)} is already used by an open messaging stream.`, ErrorCode.Conflict);
    if ((this.streamsOf.get(caller.id)?.size ?? 0) >= MAX_STREAMS_PER_PARTICIPANT) {
      throw new RequestError(`messaging.stream: ${MAX_STREAMS_PER_PARTICIPANT} streams are already open; close one first.`, ErrorCode.InvalidState);
    }
    const stream: Stream = { id: this.createId(), caller, callerRequestId: requestId, callerToolCallId: toolCallId, phase: 'addressing', timer: undefined };
    stream.timer = this.timers.setTimeout(() => this.acceptTimedOut(stream), STREAM_ACCEPT_TIMEOUT_MS);
    this.byCaller.set(key, stream);
    this.byId.set(stream.id, stream);
    this.involve(caller.id, stream);
  }

  /** A `room.tool_call_request_chunk` from a caller. Chunks of streams that ended are dropped. */
  requestChunk(session: RequestScope, header: Record<string, unknown>, payload: Uint8Array): void {
    const { toolCallId, chunk } = chunkHeader(header, payload);
    const stream = this.byCaller.get(callerKey(session.id, toolCallId));
    if (stream === undefined) return;
    try {
      if (chunk.type === 'control' && chunk.method === 'close') {
        this.closeTowardsTarget(stream);
        if (stream.phase === 'addressing') stream.caller.replyError(stream.callerRequestId, 'the messaging stream was closed before its first message.', ErrorCode.InvalidRequest);
        this.remove(stream);
        return;
      }
      if (chunk.type !== 'json') throw new RequestError(`chunk.type: messaging.stream request chunks are json or a close control (got ${describeValue(chunk.type)}).`, ErrorCode.InvalidRequest);
      if (stream.phase === 'addressing') this.address(stream, chunk.json);
      else this.forwardMessage(stream, chunk.json);
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      this.fail(stream, error.message, error instanceof RequestError ? error.protocolCode : ErrorCode.InvalidRequest);
    }
  }

  /** A `room.tool_call_response` from a target: it accepted (open control) or refused (error) the stream. */
  targetResponse(session: RequestScope, messageId: MessageId, header: Record<string, unknown>, payload: Uint8Array): void {
    const stream = typeof messageId === 'number' ? this.byTargetRequest.get(messageId) : undefined;
    if (stream === undefined || stream.target !== session || stream.phase !== 'offered') return;
    let content: Content;
    try {
      content = contentFromHeader(header, payload);
    } catch (error) {
      content = { type: 'error', text: `the participant answered the messaging stream with invalid content: ${(error as Error).message}` };
    }
    const { caller, callerRequestId } = stream;
    if (content.type === 'control' && content.method === 'open') {
      stream.phase = 'open';
      this.timers.clearTimeout(stream.timer);
      caller.reply(caller.context.encoder.response(callerRequestId, { type: 'control', method: 'open' }));
      this.chunkToCaller(stream, { type: 'json', json: { kind: 'accepted', stream_id: stream.id } });
      return;
    }
    if (content.type === 'error') {
      caller.replyError(callerRequestId, content.text, content.code ?? ErrorCode.OperationFailed);
    } else {
      caller.replyError(callerRequestId, `the participant answered the messaging stream with ${content.type} content; expected an open control.`, ErrorCode.UnexpectedResponseType);
      this.closeTowardsTarget(stream);
    }
    this.remove(stream);
  }

  /** A `room.tool_call_response_chunk` from a target: relayed to the caller; a close control ends the stream. */
  targetChunk(session: RequestScope, header: Record<string, unknown>, payload: Uint8Array): void {
    const { toolCallId, chunk } = chunkHeader(header, payload);
    const stream = this.byId.get(toolCallId);
    if (stream === undefined || stream.target !== session || stream.phase !== 'open') return;
    this.chunkToCaller(stream, chunk);
    if (chunk.type === 'control' && chunk.method === 'close') this.remove(stream);
  }

  /** The first request chunk names the target: offer the stream to it. */
  private address(stream: Stream, json: unknown): void {
    const input = parseSendArguments(json);
    checkUserMessage(stream.caller, input);
    const member = stream.caller.room.enabledMember(input.to_participant_id);
    if (member === undefined) throw new RequestError(PARTICIPANT_NOT_FOUND_TEXT, ErrorCode.NotFound);
    const target = this.sessions.get(member.id);
    if (target === undefined) {
      throw new RequestError(`messaging.stream: participant ${describeValue(member.id)} is connected to another server node; streams are relayed within one node.`, ErrorCode.OperationFailed);
    }
    if ((this.streamsOf.get(target.id)?.size ?? 0) >= MAX_STREAMS_PER_PARTICIPANT) {
      throw new RequestError(`messaging.stream: the participant has ${MAX_STREAMS_PER_PARTICIPANT} streams open already.`, ErrorCode.InvalidState);
    }
    const { encoder } = target.context;
    const requestId = encoder.pushId();
    stream.phase = 'offered';
    stream.target = target;
    stream.targetRequestId = requestId;
    this.byTargetRequest.set(requestId, stream);
    this.involve(target.id, stream);
    const offer = { name: 'stream', caller_id: stream.caller.id, tool_call_id: stream.id, arguments: { type: 'control', method: 'open' } };
    target.deliver(encodeEnvelope(requestId, TOOL_CALL_TYPE, JSON.stringify(offer)));
    this.chunkToTarget(stream, {
      type: 'json',
      json: { from_participant_id: stream.caller.id, type: input.type, message_json: input.message_json, attachment_base64: input.attachment_base64 ?? null },
    });
  }

  private forwardMessage(stream: Stream, json: unknown): void {
    const input = parseBroadcastArguments(json);
    checkUserMessage(stream.caller, input);
    this.chunkToTarget(stream, { type: 'json', json: { type: input.type, message_json: input.message_json, attachment_base64: input.attachment_base64 ?? null } });
  }

  /** Bad input from the caller: answer it (before acceptance) or close its stream with the error, and release the target. */
  private fail(stream: Stream, text: string, code: number): void {
    if (stream.phase === 'open') {
      this.chunkToCaller(stream, { type: 'error', text, code });
      this.chunkToCaller(stream, { type: 'control', method: 'close', statusCode: 1007, message: text });
    } else {
      stream.caller.replyError(stream.callerRequestId, text, code);
    }
    this.closeTowardsTarget(stream);
    this.remove(stream);
  }

  private acceptTimedOut(stream: Stream): void {
    if (stream.phase === 'open' || this.byId.get(stream.id) !== stream) return;
    const seconds = STREAM_ACCEPT_TIMEOUT_MS / 1000;
    const text = stream.phase === 'addressing' ? `the messaging stream got no first message within ${seconds} s.` : `the participant did not accept the messaging stream within ${seconds} s.`;
    stream.caller.replyError(stream.callerRequestId, text, ErrorCode.Timeout);
    this.closeTowardsTarget(stream);
    this.remove(stream);
  }

  /** Tells the target (if the stream was offered to it) that the caller closed. */
  private closeTowardsTarget(stream: Stream): void {
    if (stream.target !== undefined) this.chunkToTarget(stream, { type: 'control', method: 'close' });
  }

  private chunkToTarget(stream: Stream, chunk: Content): void {
    const { header, payload } = contentToHeader(chunk);
    const target = stream.target!;
    target.deliver(target.context.encoder.push(MessageType.MessagingToolCallRequestChunk, { tool_call_id: stream.id, chunk: header }, payload));
  }

  private chunkToCaller(stream: Stream, chunk: Content): void {
    const { header, payload } = contentToHeader(chunk);
    const { caller } = stream;
    caller.deliver(caller.context.encoder.push(MessageType.ToolCallResponseChunk, { tool_call_id: stream.callerToolCallId, chunk: header }, payload));
  }

  private involve(participantId: string, stream: Stream): void {
    let streams = this.streamsOf.get(participantId);
    if (streams === undefined) this.streamsOf.set(participantId, (streams = new Set()));
    streams.add(stream);
  }

  private uninvolve(participantId: string, stream: Stream): void {
    const streams = this.streamsOf.get(participantId);
    if (streams === undefined) return;
    streams.delete(stream);
    if (streams.size === 0) this.streamsOf.delete(participantId);
  }

  private remove(stream: Stream): void {
    this.timers.clearTimeout(stream.timer);
    this.byCaller.delete(callerKey(stream.caller.id, stream.callerToolCallId));
    this.byId.delete(stream.id);
    if (stream.targetRequestId !== undefined) this.byTargetRequest.delete(stream.targetRequestId);
    this.uninvolve(stream.caller.id, stream);
    if (stream.target !== undefined) this.uninvolve(stream.target.id, stream);
  }
}

function callerKey(participantId: string, toolCallId: string): string {
  return `${participantId}\n${toolCallId}`;
}

/** The `{ tool_call_id, chunk }` header of a stream chunk, with its content validated. */
function chunkHeader(header: Record<string, unknown>, payload: Uint8Array): { toolCallId: string; chunk: Content } {
  const toolCallId = header.tool_call_id;
  if (typeof toolCallId !== 'string' || toolCallId === '') {
    throw new RequestError(`tool_call_id: expected a non-empty string (got ${describeValue(toolCallId)}).`, ErrorCode.InvalidRequest);
  }
  const chunk = header.chunk;
  if (typeof chunk !== 'object' || chunk === null || Array.isArray(chunk)) {
    throw new RequestError(`chunk: expected a content header object (got ${describeValue(chunk)}).`, ErrorCode.InvalidRequest);
  }
  try {
    return { toolCallId, chunk: contentFromHeader(chunk as Record<string, unknown>, payload) };
  } catch (error) {
    throw new RequestError(`chunk: ${(error as Error).message}`, ErrorCode.InvalidRequest);
  }
}
