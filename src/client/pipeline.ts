/**
 * The RxJS pipeline: the only caller of `actor.send`. Commands from the API,
 * transport events from the websocket (decoded by the codec), notifications
 * between the machines and answers to requests all become machine events
 * here; effects the machines emit are carried out here. Everything is torn
 * down through the returned `Subscription`.
 *
 * @packageDocumentation
 */
import { EMPTY, Observable, Subject, Subscription, catchError, filter, from, ignoreElements, map, merge, mergeMap, of, switchMap } from 'rxjs';
import type { ActorRefFrom } from 'xstate';
import type { ConnectionEvent, MessagingEvent, connectionMachine, messagingMachine } from '../../machines/index.js';
import { MessageType } from '../protocol/message-types.js';
import { isFinalClose } from '../protocol/close-codes.js';
import { RoomServerError } from '../errors.js';
import { MessagingDisabledError, closedError } from './errors.js';
import type { Link, LinkEvent } from './link.js';
import { LinkLostError, type Pending } from './requests.js';
import { emitted as emittedOf } from './observe.js';
import type { Outbox } from './outbox.js';
import type { PresenceActors, PresenceChange, PresenceDelivery } from './presence-actors.js';
import { PresenceBatch, isPresencePush } from './presence-batch.js';
import type { Content } from '../protocol/content.js';
import { decodeMessagingPush, encodeSetAttributes, type RoomMessage } from './wire.js';
import { decodeConnected, decodeRoomReady } from '../protocol/handshake.js';
import { encodeInvoke, type MessagingTool } from '../protocol/messaging.js';

/** The connection actor. */
export type ConnectionActor = ActorRefFrom<typeof connectionMachine>;
/** The messaging actor. */
export type MessagingActor = ActorRefFrom<typeof messagingMachine>;

/** Where a routed event goes. */
type Routed =
  | { to: 'connection'; event: ConnectionEvent }
  /** `control`: the presence control message the event was decoded from, repeated on `controlMessages` after the machine has it. */
  | { to: 'messaging'; event: MessagingEvent; control?: RoomMessage }
  | { to: 'user'; message: RoomMessage }
  | { to: 'presence'; deliveries: readonly PresenceDelivery[] };

/** Where warnings go. */
export interface ClientLogger {
  warn(message: string, ...details: unknown[]): void;
}

/** The parts the pipeline connects. */
export interface PipelineParts {
  readonly connection: ConnectionActor;
  readonly messaging: MessagingActor;
  /** Opens a websocket per subscription (see {@link openLink}). */
  readonly openSocket: () => Observable<LinkEvent>;
  /** Commands for the connection machine, from the API. */
  readonly connectionCommands: Observable<ConnectionEvent>;
  /** Commands for the messaging machine, from the API and the outbox. */
  readonly messagingCommands: Observable<MessagingEvent>;
  /** The current open websocket, kept up to date by the pipeline. */
  readonly link: { current: Link | undefined };
  readonly outbox: Outbox;
  /** The presence actors, fed here with the roster's changes. */
  readonly presenceActors: PresenceActors;
  /** User messages. */
  readonly messages: Subject<RoomMessage>;
  /** Presence control messages as received (built only while observed). */
  readonly controlMessages: Subject<RoomMessage>;
  readonly logger: ClientLogger;
}

/** The messaging events of the connection machine's notifications. */
function connectionNotices(connection: ConnectionActor): Observable<Routed> {
  return merge(
    emittedOf(connection, 'connection.established').pipe(map(() => ({ type: 'connection.established' }) as const)),
    emittedOf(connection, 'connection.lost').pipe(map(() => ({ type: 'connection.lost' }) as const)),
    emittedOf(connection, 'connection.ended').pipe(map(() => ({ type: 'connection.ended' }) as const)),
  ).pipe(map((event) => ({ to: 'messaging', event })));
}

// Makes tool_call_ids unique within this runtime; no randomness needed.
let toolCalls = 0;

/**
 * Invokes a messaging tool on the current websocket; `pending` is settled
 * with the answer, or rejected with {@link LinkLostError} when there is none.
 */
export function invokeToolWith(
  link: { current: Link | undefined },
  tool: MessagingTool,
  json: Record<string, unknown>,
  pending: Pending,
  attachment?: Uint8Array,
): void {
  const current = link.current;
  if (current === undefined) {
    // Never settled synchronously: the outbox may be iterating its queue.
    queueMicrotask(() => pending.reject(new LinkLostError()));
    return;
  }
  // 0.39.9 gives one-way invocations (enable, disable) a tool_call_id.
  const toolCallId = tool === 'enable' || tool === 'disable' ? `${Date.now()}-${++toolCalls}` : undefined;
  current.request(MessageType.InvokeTool, encodeInvoke(tool, json, toolCallId, attachment), pending);
}

/** {@link invokeToolWith}, as a promise. */
export function invokeTool(link: { current: Link | undefined }, tool: MessagingTool, json: Record<string, unknown>): Promise<Content> {
  return new Promise<Content>((resolve, reject) => invokeToolWith(link, tool, json, { resolve, reject }));
}

/**
 * Routes one websocket event to the machine (or user stream) it concerns;
 * undefined when it concerns none. Synchronous and allocation-light: it runs
 * once per received message, so no inner observable per event.
 */
function routeLinkEvent(event: LinkEvent, parts: PipelineParts): Routed | undefined {
  switch (event.type) {
    case 'transport.opened':
      parts.link.current = event.link;
      return { to: 'connection', event: { type: 'transport.opened' } };
    case 'transport.closed': {
      if (parts.link.current === event.link) parts.link.current = undefined;
      const { link: _link, ...closed } = event;
      return { to: 'connection', event: { ...closed, final: isFinalClose(closed) } };
    }
    case 'transport.failed':
      parts.logger.warn(`roomstate client: dropped an undecodable frame: ${event.error.message}`);
      return undefined;
    case 'transport.message': {
      const { type, data } = event.message;
      try {
        switch (type) {
          case MessageType.MessagingSend: {
            const push = decodeMessagingPush(data);
            return push.kind === 'presence' ? { to: 'messaging', event: push.event, control: push.message } : { to: 'user', message: push.message };
          }
          case MessageType.RoomReady:
            return { to: 'connection', event: { type: 'room.ready_received', ...decodeRoomReady(data) } };
          case MessageType.Connected: {
            const joined = decodeConnected(data);
            return joined === undefined ? undefined : { to: 'connection', event: { type: 'room.joined', ...joined } };
          }
          default:
            return undefined;
        }
      } catch (error) {
        parts.logger.warn(`roomstate client: ignored a malformed ${type} message: ${(error as Error).message}`);
        return undefined;
      }
    }
  }
}

/** The roster's changes, as events for the presence actors that stand for the participants concerned. */
function presenceDeliveries(parts: PipelineParts): Observable<Routed> {
  const { messaging, presenceActors } = parts;
  const changes: Observable<PresenceChange> = merge(
    emittedOf(messaging, 'participant.added'),
    emittedOf(messaging, 'participant.attributes_updated'),
    emittedOf(messaging, 'participant.removed'),
  );
  return changes.pipe(
    map((change) => presenceActors.deliveriesFor(change)),
    filter((deliveries) => deliveries.length > 0),
    map((deliveries) => ({ to: 'presence', deliveries }) as const),
  );
}

/** Answers to `enable` and `disable`, as messaging events. Answers from a closed socket are moot. */
function toolAnswers(parts: PipelineParts): Observable<Routed> {
  const enable = emittedOf(parts.messaging, 'request.enable').pipe(
    mergeMap(() =>
      from(invokeTool(parts.link, 'enable', {})).pipe(
        ignoreElements(),
        catchError((error: unknown): Observable<MessagingEvent> => {
          if (error instanceof LinkLostError) return EMPTY;
          const code = error instanceof RoomServerError ? error.protocolCode : undefined;
          const message = error instanceof Error ? error.message : String(error);
          return of(code === undefined ? { type: 'messaging.enable_failed', message } : { type: 'messaging.enable_failed', message, code });
        }),
      ),
    ),
  );
  const disable = emittedOf(parts.messaging, 'request.disable').pipe(
    mergeMap(() =>
      from(invokeTool(parts.link, 'disable', {})).pipe(
        map((): MessagingEvent => ({ type: 'messaging.disable_completed' })),
        catchError((error: unknown): Observable<MessagingEvent> => {
          if (error instanceof LinkLostError) return EMPTY;
          parts.logger.warn(`roomstate client: one-way room request failed for messaging.disable: ${(error as Error).message}`);
          return of({ type: 'messaging.disable_completed' });
        }),
      ),
    ),
  );
  return merge(enable, disable).pipe(map((event) => ({ to: 'messaging', event })));
}

/** Effects that touch neither machine: websocket writes and the outbox. */
function effects(parts: PipelineParts): Observable<never> {
  const { connection, messaging, outbox } = parts;
  return merge(
    emittedOf(connection, 'attributes.send').pipe(
      map((effect) => {
        if (Object.keys(effect.attributes).length > 0) parts.link.current?.send(MessageType.SetAttributes, encodeSetAttributes(effect.attributes));
      }),
    ),
    emittedOf(messaging, 'outbox.flush').pipe(map(() => outbox.flush())),
    emittedOf(messaging, 'outbox.reject').pipe(
      map((effect) => {
        switch (effect.reason) {
          case 'closed': {
            if (outbox.queued > 0) outbox.rejectAll(closedError(connection.getSnapshot().context.end, 'the message was sent'));
            return;
          }
          case 'disabled':
            outbox.rejectAll(new MessagingDisabledError('messaging was disabled before the message was sent.'));
            return;
          case 'enable_failed':
            outbox.rejectAll(new MessagingDisabledError(`messaging could not be enabled (${effect.failure.message}), so the message was not sent.`, effect.failure));
            return;
        }
      }),
    ),
  ).pipe(ignoreElements());
}

/**
 * Connects the machines, the websocket and the outbox. Unsubscribe to tear
 * everything down (the current websocket is closed with 1000).
 */
export function runPipeline(parts: PipelineParts): Subscription {
  const { connection, messaging } = parts;
  const socketCommands = merge(
    emittedOf(connection, 'socket.open').pipe(map(() => true)),
    emittedOf(connection, 'socket.close').pipe(map(() => false)),
  );
  // switchMap: opening a socket, or closing, tears the previous one down.
  const linkEvents = socketCommands.pipe(
    switchMap((open) => (open ? parts.openSocket() : EMPTY)),
    map((event) => routeLinkEvent(event, parts)),
    filter((routed): routed is Routed => routed !== undefined),
  );
  const routed: Observable<Routed> = merge(
    parts.connectionCommands.pipe(map((event) => ({ to: 'connection', event }) as const)),
    parts.messagingCommands.pipe(map((event) => ({ to: 'messaging', event }) as const)),
    linkEvents,
    connectionNotices(connection),
    toolAnswers(parts),
    presenceDeliveries(parts),
  );
  const subscription = new Subscription();
  const batch = new PresenceBatch((pushes) => messaging.send(pushes.length === 1 ? pushes[0]! : { type: 'presence.changed', events: pushes }));
  subscription.add(() => batch.close());
  subscription.add(effects(parts).subscribe());
  subscription.add(
    routed.subscribe((item) => {
      // Presence pushes from the socket are collected while nobody needs them one by one
      // (on('message') repeats each control message right after its own event).
      if (item.to === 'messaging' && item.control !== undefined && isPresencePush(item.event) && !parts.controlMessages.observed) {
        batch.add(item.event);
        return;
      }
      batch.flush();
      switch (item.to) {
        case 'connection':
          connection.send(item.event);
          return;
        case 'messaging':
          messaging.send(item.event);
          if (item.control !== undefined && parts.controlMessages.observed) parts.controlMessages.next(item.control);
          return;
        case 'user':
          parts.messages.next(item.message);
          return;
        case 'presence':
          for (const { actor, event } of item.deliveries) actor.send(event);
          return;
      }
    }),
  );
  return subscription;
}
