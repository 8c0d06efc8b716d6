/**
 * Dispatches a reassembled request to its handler and guarantees an answer:
 * every request except `set_attributes` (which the protocol leaves
 * unanswered on success) gets exactly one response.
 */
import { ErrorCode, MessageType, unpackEnvelope, type ProtocolMessage } from '../../protocol/index.js';
import { ValidationError, describeValue } from '../../errors.js';
import type { ParticipantSession } from './participant-session.js';
import { parseInvokeToolHeader, utf8Length } from './validation.js';
import { invokeMessagingTool } from './messaging-toolkit.js';
import { requestKind } from './observer.js';
import { RequestError } from './request-error.js';

/** Handles one complete message from `session`. Never throws. */
export function handleMessage(session: ParticipantSession, message: ProtocolMessage): void {
  // Clients answer server requests with __response__; this server sends none,
  // and answering one would hand the client a response for its own id.
  if (message.type === MessageType.Response) return;
  let header: Record<string, unknown>;
  let payload: Uint8Array;
  try {
    ({ header, payload } = unpackEnvelope(message.data, { maxDepth: session.context.limits.maxJsonDepth }));
  } catch (error) {
    session.protocolError((error as Error).message, message.id);
    return;
  }
  session.context.observer.requestReceived(requestKind(message.type, header), message.data.byteLength, session.room.name);
  try {
    switch (message.type) {
      case MessageType.InvokeTool:
        invokeTool(session, message.id, header, payload);
        return;
      case MessageType.SetAttributes:
        setAttributes(session, header);
        return;
      default:
        throw new RequestError(`unknown request type ${describeValue(message.type)}.`, ErrorCode.InvalidRequest);
    }
  } catch (error) {
    if (error instanceof RequestError) {
      session.replyError(message.id, error.message, error.protocolCode);
    } else if (error instanceof ValidationError) {
      session.replyError(message.id, error.message, ErrorCode.InvalidRequest);
    } else {
      session.context.logger.error({ err: error, participant: session.id, type: message.type }, 'request handler failed');
      session.replyError(message.id, 'internal server error.', ErrorCode.OperationFailed);
    }
  }
}

function invokeTool(session: ParticipantSession, requestId: number, header: Record<string, unknown>, payload: Uint8Array): void {
  const request = parseInvokeToolHeader(header);
  if (request.participant_id != null) {
    throw new RequestError(`participant_id: invoking a participant's toolkit is not supported (got ${describeValue(request.participant_id)}).`, ErrorCode.InvalidRequest);
  }
  if (request.toolkit !== 'messaging') {
    throw new RequestError(`toolkit: unknown toolkit ${describeValue(request.toolkit)}; this server offers "messaging".`, ErrorCode.InvalidRequest);
  }
  invokeMessagingTool(session, requestId, request.tool, request.arguments, payload);
}

/** The key Python adds to every header for tracing; never an attribute. */
const META_KEY = '__meshagent__';

function setAttributes(session: ParticipantSession, header: Record<string, unknown>): void {
  const { limits } = session.context;
  // Spread copies keys as own data properties, so a "__proto__" key stays a plain key.
  const changed: Record<string, unknown> = { ...header };
  delete changed[META_KEY];
  if (Object.keys(changed).length === 0) return;
  // The name is the token's identity, so lookups by name cannot be spoofed.
  // Clients re-send it unchanged after a reconnect, which passes.
  if ('name' in changed && changed.name !== session.name) {
    throw new RequestError(
      `attributes.name: the name comes from the token and cannot change (token name ${describeValue(session.name)}, got ${describeValue(changed.name)}).`,
      ErrorCode.PermissionDenied,
    );
  }
  const merged = { ...session.attributes, ...changed };
  const keys = Object.keys(merged).length;
  if (keys > limits.maxAttributeKeys) {
    throw new RequestError(`attributes: ${keys} keys exceed the limit of ${limits.maxAttributeKeys}.`, ErrorCode.InvalidRequest);
  }
  const bytes = utf8Length(JSON.stringify(merged));
  if (bytes > limits.maxAttributeBytes) {
    throw new RequestError(`attributes: ${bytes} bytes of JSON exceed the limit of ${limits.maxAttributeBytes}.`, ErrorCode.InvalidRequest);
  }
  session.attributes = merged;
  session.context.observer.attributesChanged(session.room.name, session.id, changed);
  session.lifecycle({ type: 'attributes.changed', changed });
}
