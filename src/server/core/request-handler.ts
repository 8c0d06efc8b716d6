/**
 * Dispatches a reassembled request to its handler and guarantees an answer:
 * every request except `set_attributes` (which the protocol leaves
 * unanswered on success) gets exactly one response.
 */
import { ErrorCode, MessageType, unpackEnvelope, type MessageId, type ProtocolMessage } from '../../protocol/index.js';
import { ValidationError, describeValue } from '../../errors.js';
import type { RequestScope } from './request-scope.js';
import { parseInvokeToolHeader, utf8Length } from './validation.js';
import { invokeMessagingTool } from './messaging-toolkit.js';
import { requestKind } from './observer.js';
import { RequestError } from './request-error.js';

/** Handles one complete message from `session`. Never throws. */
export function handleMessage(session: RequestScope, message: ProtocolMessage): void {
  // Clients answer server requests with __response__; this server sends none,
  // and answering one would hand the client a response for its own id.
  if (message.type === MessageType.Response) return;
  let header: Record<string, unknown>;
  let payload: Uint8Array;
  try {
    ({ header, payload } = unpackEnvelope(message.data, { maxDepth: session.context.limits.maxJsonDepth }));
  } catch (error) {
    session.protocolError((error as Error).message, message.exactId);
    return;
  }
  session.context.observer.requestReceived(requestKind(message.type, header), message.data.byteLength, session.room.name);
  try {
    switch (message.type) {
      case MessageType.InvokeTool:
        invokeTool(session, message.exactId, header, payload);
        return;
      case MessageType.SetAttributes:
        setAttributes(session, header);
        return;
      case MessageType.ToolCallRequestChunk:
        session.streams.requestChunk(session, header, payload);
        return;
      case MessageType.ToolCallResponse:
        session.streams.targetResponse(session, message.exactId, header, payload);
        return;
      case MessageType.ToolCallResponseChunk:
        session.streams.targetChunk(session, header, payload);
        return;
      default:
        throw new RequestError(`unknown request type ${describeValue(message.type)}.`, ErrorCode.InvalidRequest);
    }
  } catch (error) {
    if (error instanceof RequestError) {
      session.replyError(message.exactId, error.message, error.protocolCode);
    } else if (error instanceof ValidationError) {
      session.replyError(message.exactId, error.message, ErrorCode.InvalidRequest);
    } else {
      session.context.logger.error({ err: error, participant: session.id, type: message.type }, 'request handler failed');
      session.replyError(message.exactId, 'internal server error.', ErrorCode.OperationFailed);
    }
  }
}

function invokeTool(session: RequestScope, requestId: MessageId, header: Record<string, unknown>, payload: Uint8Array): void {
  const request = parseInvokeToolHeader(header);
  if (request.participant_id != null) {
    throw new RequestError(`participant_id: invoking a participant's toolkit is not supported (got ${describeValue(request.participant_id)}).`, ErrorCode.InvalidRequest);
  }
  if (request.toolkit !== 'messaging') {
    throw new RequestError(`toolkit: unknown toolkit ${describeValue(request.toolkit)}; this server offers "messaging".`, ErrorCode.InvalidRequest);
  }
  invokeMessagingTool(session, requestId, request.tool, request.arguments, payload, request.tool_call_id);
}

/** The key Python adds to every header for tracing; never an attribute. */
const META_KEY = '__meshagent__';

/** Keys that rewrite a prototype when a client assigns them into a plain object. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function setAttributes(session: RequestScope, header: Record<string, unknown>): void {
  const { limits } = session.context;
  // Spread copies keys as own data properties, so a "__proto__" key stays a plain key.
  const changed: Record<string, unknown> = { ...header };
  delete changed[META_KEY];
  const keys = Object.keys(changed);
  if (keys.length === 0) return;
  const forbidden = keys.find((key) => FORBIDDEN_KEYS.has(key));
  if (forbidden !== undefined) {
    throw new RequestError(`attributes.${forbidden}: the key is not allowed (it would replace the prototype of the attribute map in clients); use another key.`, ErrorCode.InvalidRequest);
  }
  // The name is the token's identity, so lookups by name cannot be spoofed.
  // Clients re-send it unchanged after a reconnect, which passes.
  if ('name' in changed && changed.name !== session.name) {
    throw new RequestError(
      `attributes.name: the name comes from the token and cannot change (token name ${describeValue(session.name)}, got ${describeValue(changed.name)}).`,
      ErrorCode.PermissionDenied,
    );
  }
  const merged = { ...session.attributes, ...changed };
  const mergedKeys = Object.keys(merged).length;
  if (mergedKeys > limits.maxAttributeKeys) {
    throw new RequestError(`attributes: ${mergedKeys} keys exceed the limit of ${limits.maxAttributeKeys}.`, ErrorCode.InvalidRequest);
  }
  const bytes = utf8Length(JSON.stringify(merged));
  if (bytes > limits.maxAttributeBytes) {
    throw new RequestError(`attributes: ${bytes} bytes of JSON exceed the limit of ${limits.maxAttributeBytes}.`, ErrorCode.InvalidRequest);
  }
  session.attributes = merged;
  session.context.observer.attributesChanged(session.room.name, session.id, changed);
  session.lifecycle({ type: 'attributes.changed', changed });
}
