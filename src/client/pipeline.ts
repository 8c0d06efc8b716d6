/**
 * The RxJS pipeline: the only caller of `actor.send`. Commands from the API,
 * transport events from the websocket (decoded by the codec), notifications
 * between the machines and answers to requests all become machine events
 * here; effects the machines emit are carried out here. Everything is torn
 * down through the returned `Subscription`.
 *
 * Every write reaches the socket through one {@link SocketPort}, which the
 * pipeline connects to the socket that is open and hands to the outbox;
 * every answer for the messaging machine comes back out of it. Routing a
 * socket event is a pure function from the event to where it goes.
 *
 * @packageDocumentation
 */
import { Observable, Subject, Subscription } from 'rxjs';
import type { ActorRefFrom } from 'xstate';
import type { ConnectionEmitted, ConnectionEvent, MessagingEmitted, MessagingEvent, connectionMachine, messagingMachine } from '../../machines/index.js';
import { MessageType } from '../protocol/message-types.js';
import { isFinalClose } from '../protocol/close-codes.js';
import { MessagingDisabledError, closedError } from './errors.js';
import type { Link, LinkEvent } from './link.js';
import type { Outbox } from './outbox.js';
import type { PresenceActors } from './presence-actors.js';
import { PresenceBatch, isPresencePush } from './presence-batch.js';
import { SocketPort } from './socket-port.js';
import { decodeMessagingPush, encodeSetAttributes, isUserMessage, type RoomMessage } from './wire.js';
import { decodeConnected, decodeRoomReady } from '../protocol/handshake.js';
import type { ResumeSession } from './resume.js';

/** The connection actor. */
export type ConnectionActor = ActorRefFrom<typeof connectionMachine>;
/** The messaging actor. */
export type MessagingActor = ActorRefFrom<typeof messagingMachine>;

/** Where a socket event goes. */
type Routed =
  /** `port`: the socket to connect the port to (opened) or disconnect it from (closed), before the machine hears of it. */
  | { to: 'connection'; event: ConnectionEvent; port?: { opened: boolean; link: Link } }
  /** The event's `received` (kept only while control messages are observed) is repeated on `controlMessages` after the machine has it. */
  | { to: 'messaging'; event: MessagingEvent }
  | { to: 'user'; message: RoomMessage };

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
  /** Commands for the messaging machine, from the API. */
  readonly messagingCommands: Observable<MessagingEvent>;
  /** The outbox; the pipeline hands it the socket port. */
  readonly outbox: Outbox;
  /** The presence actors, fed here with the roster's changes. */
  readonly presenceActors: PresenceActors;
  /** User messages. */
  readonly messages: Subject<RoomMessage>;
  /** Presence control messages as received (built only while observed). */
  readonly controlMessages: Subject<RoomMessage>;
  readonly logger: ClientLogger;
  /** The resume state, when the client resumes after drops (the links it opens share it). */
  readonly resume?: ResumeSession;
}

/**
 * Where one websocket event goes; undefined when nowhere. Pure, synchronous
 * and allocation-light: it runs once per received message.
 */
function routeLinkEvent(event: LinkEvent, logger: ClientLogger, resume: ResumeSession | undefined, keepControl: boolean): Routed | undefined {
  switch (event.type) {
    case 'transport.opened':
      return { to: 'connection', event: { type: 'transport.opened' }, port: { opened: true, link: event.link } };
    case 'transport.closed': {
      const { link, ...closed } = event;
      return { to: 'connection', event: { ...closed, final: isFinalClose(closed) }, port: { opened: false, link } };
    }
    case 'transport.failed':
      logger.warn(`roomstate client: dropped an undecodable frame: ${event.error.message}`);
      return undefined;
    case 'transport.message': {
      const { type, data } = event.message;
      try {
        switch (type) {
          case MessageType.MessagingSend: {
            const push = decodeMessagingPush(data, keepControl);
            return isUserMessage(push) ? { to: 'user', message: push } : { to: 'messaging', event: push };
          }
          case MessageType.RoomReady:
            // The link has read the resume answer of this room_ready already.
            return { to: 'connection', event: { type: 'room.ready_received', ...decodeRoomReady(data), ...(resume?.resumedNow === true ? { resumed: true } : {}) } };
          case MessageType.Connected: {
            const joined = decodeConnected(data);
            return joined === undefined ? undefined : { to: 'connection', event: { type: 'room.joined', ...joined } };
          }
          default:
            return undefined;
        }
      } catch (error) {
        logger.warn(`roomstate client: ignored a malformed ${type} message: ${(error as Error).message}`);
        return undefined;
      }
    }
  }
}

/**
 * Connects the machines, the websocket and the outbox. Unsubscribe to tear
 * everything down (the current websocket is closed with 1000).
 */
export function runPipeline(parts: PipelineParts): Subscription {
  const { connection, messaging, outbox, presenceActors, logger } = parts;
  const port = new SocketPort(logger);
  outbox.use(port);
  const subscription = new Subscription();
  // Presence pushes from the socket are collected while nobody needs them one by one
  // (on('message') repeats each control message right after its own event).
  const batch = new PresenceBatch((pushes) => messaging.send(pushes.length === 1 ? pushes[0]! : { type: 'presence.changed', events: pushes }));
  const toConnection = (event: ConnectionEvent): void => {
    batch.flush();
    connection.send(event);
  };
  const toMessaging = (event: MessagingEvent): void => {
    batch.flush();
    messaging.send(event);
  };

  const deliver = (item: Routed): void => {
    switch (item.to) {
      case 'connection':
        if (item.port !== undefined) {
          if (item.port.opened) port.connect(item.port.link);
          else port.disconnect(item.port.link);
        }
        toConnection(item.event);
        return;
      case 'messaging':
        if (isPresencePush(item.event) && !parts.controlMessages.observed) {
          batch.add(item.event);
          return;
        }
        toMessaging(item.event);
        if ('received' in item.event && item.event.received !== undefined && parts.controlMessages.observed) parts.controlMessages.next(item.event.received as RoomMessage);
        return;
      case 'user':
        batch.flush();
        parts.messages.next(item.message);
        return;
    }
  };

  // The socket of the current attempt; opening another, or closing, tears it down first.
  let socket: { link?: Link; subscription: Subscription } | undefined;
  const closeSocket = (): void => {
    if (socket === undefined) return;
    if (socket.link !== undefined) port.disconnect(socket.link);
    socket.subscription.unsubscribe();
    socket = undefined;
  };
  const openSocket = (): void => {
    closeSocket();
    const current: { link?: Link; subscription: Subscription } = { subscription: new Subscription() };
    socket = current;
    current.subscription.add(
      parts.openSocket().subscribe((event) => {
        if (event.type === 'transport.opened') current.link = event.link;
        const routed = routeLinkEvent(event, logger, parts.resume, parts.controlMessages.observed);
        if (routed !== undefined) deliver(routed);
      }),
    );
  };

  const connectionEffect = (effect: ConnectionEmitted): void => {
    switch (effect.type) {
      case 'socket.open':
        openSocket();
        return;
      case 'socket.close':
        closeSocket();
        return;
      case 'connection.ended':
        // Nothing will answer what is still pending across sockets.
        parts.resume?.end();
        toMessaging({ type: effect.type });
        return;
      case 'connection.established':
      case 'connection.lost':
        toMessaging({ type: effect.type });
        return;
      case 'attributes.send':
        if (Object.keys(effect.attributes).length > 0) port.notify(MessageType.SetAttributes, encodeSetAttributes(effect.attributes));
        return;
      default:
        return;
    }
  };

  const messagingEffect = (effect: MessagingEmitted): void => {
    switch (effect.type) {
      case 'request.enable':
        port.enable();
        return;
      case 'request.disable':
        port.disable();
        return;
      case 'outbox.flush':
        outbox.flush();
        return;
      case 'outbox.reject':
        switch (effect.reason) {
          case 'closed':
            if (outbox.queued > 0) outbox.rejectAll(closedError(connection.getSnapshot().context.end, 'the message was sent'));
            return;
          case 'disabled':
            outbox.rejectAll(new MessagingDisabledError('messaging was disabled before the message was sent.'));
            return;
          case 'enable_failed':
            outbox.rejectAll(new MessagingDisabledError(`messaging could not be enabled (${effect.failure.message}), so the message was not sent.`, effect.failure));
            return;
        }
        return;
      case 'roster.changed':
        // The presence actors that stand for the participants concerned (none unless someone reads or inspects them).
        for (const change of effect.changes) {
          for (const { actor, event } of presenceActors.deliveriesFor(change)) actor.send(event);
        }
        return;
      default:
        return;
    }
  };

  subscription.add(() => batch.close());
  subscription.add(closeSocket);
  // Effects straight from `actor.on()`: no observable in between, as a client in a big room pays for every object it keeps.
  subscription.add(connection.on('*', connectionEffect));
  subscription.add(messaging.on('*', messagingEffect));
  subscription.add(port.answers().subscribe(toMessaging));
  subscription.add(parts.messagingCommands.subscribe(toMessaging));
  subscription.add(parts.connectionCommands.subscribe(toConnection));
  return subscription;
}
