/**
 * The `messaging` toolkit: `enable`, `disable`, `send` and `broadcast`,
 * invoked through `room.invoke_tool`. `send` and `broadcast` are the relay
 * hot path: a set lookup, one encode, no actor transitions.
 */
import { ErrorCode, PARTICIPANT_NOT_FOUND_TEXT, type MessageId } from '../../protocol/index.js';
import { isPresenceType } from '../../protocol/presence.js';
import { describeValue } from '../../errors.js';
import type { z } from 'zod';
import type { RequestScope } from './request-scope.js';
import { RequestError } from './request-error.js';
import {
  checkJsonText,
  decodeAttachment,
  emptyArgumentsSchema,
  parseBroadcastArguments,
  parseSendArguments,
  utf8Length,
  validate,
} from './validation.js';

/** The tools of the messaging toolkit. */
export const MESSAGING_TOOLS = ['enable', 'disable', 'send', 'broadcast', 'stream'] as const;

/** Runs one messaging tool; throws {@link RequestError} or `ValidationError` to answer with an error. */
export function invokeMessagingTool(
  session: RequestScope,
  requestId: MessageId,
  tool: string,
  args: { type: string; [key: string]: unknown },
  _payload: Uint8Array,
  toolCallId?: string | null,
): void {
  if (!(MESSAGING_TOOLS as readonly string[]).includes(tool)) {
    throw new RequestError(`tool: unknown messaging tool ${describeValue(tool)}; expected one of ${MESSAGING_TOOLS.join(', ')}.`, ErrorCode.InvalidRequest);
  }
  const permissions = session.messaging;
  if (permissions === undefined) {
    throw new RequestError('messaging is not permitted: the token has no api.messaging grant.', ErrorCode.PermissionDenied);
  }
  const { encoder } = session.context;
  switch (tool) {
    case 'enable':
      jsonArguments(args, emptyArgumentsSchema);
      // The reply goes first: clients expect `empty`, then `messaging.enabled`.
      session.reply(encoder.empty(requestId));
      session.lifecycle({ type: 'messaging.enable' });
      return;
    case 'disable':
      jsonArguments(args, emptyArgumentsSchema);
      session.reply(encoder.empty(requestId));
      session.lifecycle({ type: 'messaging.disable' });
      return;
    case 'send': {
      if (!permissions.send) {
        throw new RequestError('messaging send is not permitted by the token\'s api.messaging grant.', ErrorCode.PermissionDenied);
      }
      const input = parseSendArguments(jsonContent(args));
      const attachment = checkUserMessage(session, input);
      const target = session.room.enabledMember(input.to_participant_id);
      if (target === undefined) throw new RequestError(PARTICIPANT_NOT_FOUND_TEXT, ErrorCode.NotFound);
      // Its own attribute changes reach others before its messages do.
      session.flushPresence();
      const message = encoder.messaging(session.prefix, input.type, input.message_json, attachment);
      const taken = target.deliver(message);
      session.context.observer.messageDelivered('direct', message.wire.length, 1);
      answer(session, requestId, taken);
      return;
    }
    case 'broadcast': {
      if (!permissions.broadcast) {
        throw new RequestError('messaging broadcast is not permitted by the token\'s api.messaging grant.', ErrorCode.PermissionDenied);
      }
      const input = parseBroadcastArguments(jsonContent(args));
      const attachment = checkUserMessage(session, input);
      const room = session.room;
      session.flushPresence();
      if (room.enabledCount > 0) {
        // Encoded once; the same frames go to every recipient.
        const message = encoder.messaging(session.prefix, input.type, input.message_json, attachment);
        const except = session.context.broadcastToSender ? undefined : session;
        const published = room.fanOut(message, except);
        session.context.observer.messageDelivered('broadcast', message.wire.length, room.enabledCount - (except?.enabled ? 1 : 0));
        answer(session, requestId, published);
        return;
      }
      session.reply(encoder.empty(requestId));
      return;
    }
    case 'stream':
      // A stream is a direct message that stays open: the send permission covers it.
      if (!permissions.send) {
        throw new RequestError('messaging stream is not permitted by the token\'s api.messaging grant (it needs send).', ErrorCode.PermissionDenied);
      }
      session.streams.open(session, requestId, toolCallId, args);
      return;
  }
}

/**
 * Answers a send or broadcast: `empty` now when it was delivered in this
 * process, or once another node took it (an error response when none did).
 */
function answer(session: RequestScope, requestId: MessageId, pending: void | Promise<void>): void {
  const { encoder } = session.context;
  if (pending === undefined) {
    session.reply(encoder.empty(requestId));
    return;
  }
  pending.then(
    () => session.reply(encoder.empty(requestId)),
    (error: unknown) => {
      if (error instanceof RequestError) {
        session.replyError(requestId, error.message, error.protocolCode);
        return;
      }
      session.context.logger.error({ err: error, participant: session.id }, 'relaying a message failed');
      session.replyError(requestId, 'internal server error.', ErrorCode.OperationFailed);
    },
  );
}

/**
 * Checks a user message (type, body, attachment) of `send` or `broadcast`
 * and returns the decoded attachment. Runs before the recipient lookup, so
 * bad input is reported as such.
 */
export function checkUserMessage(
  session: RequestScope,
  input: { type: string; message_json: string; attachment_base64?: string | null },
): Uint8Array | undefined {
  const { limits } = session.context;
  checkType(input.type, limits.maxTypeBytes);
  checkJsonText(input.message_json, 'arguments.json.message_json', limits.maxJsonDepth);
  return decodeAttachment(input.attachment_base64, 'arguments.json.attachment_base64');
}

/** The JSON value of `arguments`, which must be `json` content. */
function jsonContent(args: { type: string; [key: string]: unknown }): unknown {
  if (args.type !== 'json') {
    throw new RequestError(`arguments.type: expected "json" (got ${describeValue(args.type)}).`, ErrorCode.InvalidRequest);
  }
  return args.json;
}

function jsonArguments<T extends z.ZodType>(args: { type: string; [key: string]: unknown }, schema: T): z.infer<T> {
  return validate(schema, jsonContent(args), 'arguments.json');
}

function checkType(type: string, maxBytes: number): void {
  // Presence control types share the `messaging.send` push; a user message with one would forge presence.
  if (isPresenceType(type)) throw new RequestError(`arguments.json.type: ${describeValue(type)} is reserved for presence messages.`, ErrorCode.InvalidRequest);
  if (type.length > maxBytes / 3 && utf8Length(type) > maxBytes) {
    throw new RequestError(`arguments.json.type: ${utf8Length(type)} bytes exceed the limit of ${maxBytes}.`, ErrorCode.InvalidRequest);
  }
}
