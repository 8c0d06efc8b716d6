/**
 * `room.messaging`: enable/disable, direct messages and broadcasts, presence,
 * as observables and with the official SDK's methods and event names.
 *
 * @packageDocumentation
 */
import { Observable, filter, firstValueFrom, map, merge, shareReplay } from 'rxjs';
import { appearanceOf, type MessagingEvent, type MessagingStateName, type PresenceEntry, type PresenceRoster, type RosterChange } from '../../machines/index.js';
import { RoomStateError, RoomStateErrorCode, RoomServerError, ValidationError, describeValue } from '../errors.js';
import { MessagingDisabledError, closedError } from './errors.js';
import { topStateName } from './state-name.js';
import {
  Listeners,
  addedMessage,
  attributesMessage,
  enabledMessage,
  messageEvent,
  removedMessage,
  type MessagingEventListener,
  type MessagingEventName,
  type RoomMessageEvent,
} from './events.js';
import { emitted, select } from './observe.js';
import type { Outbox } from './outbox.js';
import type { PresenceActors } from './presence-actors.js';
import { RemoteParticipant, type Attributes, type LocalParticipant, type PresenceSource } from './participants.js';
import type { ClientLogger, ConnectionActor, MessagingActor } from './pipeline.js';
import { messagesOfType, replyWith, waitForParticipantIn, type MessageValidator, type MessagesOfOptions, type ReplyOptions, type ReplyResult, type TypedRoomMessage } from './agent-helpers.js';
import type { RoomMessage } from './wire.js';

/** How long {@link MessagingClient.waitForParticipant} waits by default, in ms. */
export const DEFAULT_WAIT_MS = 30_000;

/** A message target: a participant (remote or local, from any client) or a participant id. */
export type MessageTarget = RemoteParticipant | LocalParticipant | { readonly id: string } | string;

/** Arguments of {@link MessagingClient.sendMessage}. */
export interface SendMessageOptions {
  /** The recipient. */
  to: MessageTarget;
  /** The application-defined type, e.g. "chat". */
  type: string;
  /** The JSON body. */
  message: unknown;
  /** Raw bytes to send along. */
  attachment?: Uint8Array;
  /**
   * Resolve instead of rejecting when the recipient is not present or the
   * room closes or messaging is disabled before the send goes out.
   * @defaultValue false
   */
  ignoreOffline?: boolean;
}

/** Arguments of {@link MessagingClient.broadcastMessage}. */
export interface BroadcastMessageOptions {
  type: string;
  message: unknown;
  attachment?: Uint8Array;
}

/** A participant's attributes changed. */
export interface ParticipantAttributesUpdate {
  readonly participant: RemoteParticipant;
  /** The changed keys and their new values. */
  readonly changed: Attributes;
  /** All attributes after the change. */
  readonly attributes: Attributes;
}

/** What the messaging client is built from. */
export interface MessagingClientParts {
  readonly actor: MessagingActor;
  readonly connection: ConnectionActor;
  readonly command: (event: MessagingEvent) => void;
  readonly outbox: Outbox;
  readonly messages: Observable<RoomMessage>;
  /** Presence control messages as received, for `on('message')`. */
  readonly controlMessages: Observable<RoomMessage>;
  /** Where warnings go (messages refused by a {@link MessagingClient.messagesOf} validator). */
  readonly logger: ClientLogger;
  /** The presence actors (fed by the pipeline), handed out by `RemoteParticipant.presence`. */
  readonly presenceActors: PresenceActors;
}

/** The roster changes of one type the messaging actor announces, one by one, as a hot observable. */
function rosterChanges<TType extends RosterChange['type']>(actor: MessagingActor, type: TType): Observable<Extract<RosterChange, { type: TType }>> {
  return new Observable((subscriber) => {
    const subscription = actor.on('roster.changed', (event) => {
      for (const change of event.changes) if (change.type === type) subscriber.next(change as Extract<RosterChange, { type: TType }>);
    });
    return () => subscription.unsubscribe();
  });
}

/** The name `state$` reports for a messaging snapshot. */
export function messagingStateName(snapshot: ReturnType<MessagingActor['getSnapshot']>): MessagingStateName {
  return topStateName<MessagingStateName>(snapshot);
}

/** Same members: rosters of one lineage differ in `membership` whenever someone was added or removed. */
function sameMembers(a: PresenceRoster, b: PresenceRoster): boolean {
  return a.membership === b.membership;
}

/** Validates a message; returns its JSON (sent as `message_json`, so it is computed once). */
function validateMessage(type: unknown, message: unknown, attachment: unknown): string {
  if (typeof type !== 'string' || type.length === 0) {
    throw new ValidationError('type', `type must be a non-empty string, got ${describeValue(type)}.`);
  }
  const notJson = (cause?: unknown) => new ValidationError('message', `message must be a JSON value, got ${describeValue(message)}.`, { cause });
  let json: string | undefined;
  try {
    json = JSON.stringify(message);
  } catch (cause) {
    throw notJson(cause);
  }
  if (json === undefined) throw notJson();
  if (attachment !== undefined && !(attachment instanceof Uint8Array)) {
    throw new ValidationError('attachment', `attachment must be a Uint8Array, got ${describeValue(attachment)}.`);
  }
  return json;
}

/**
 * Messaging for one room client. Obtain it as `room.messaging`.
 *
 * @example
 * ```ts
 * await room.messaging.enable();
 * room.messaging.messages$.subscribe((m) => console.log(m.fromParticipantId, m.type, m.message));
 * const bob = room.messaging.getParticipantByName('bob');
 * if (bob) await room.messaging.sendMessage({ to: bob, type: 'chat', message: { text: 'hi' } });
 * ```
 */
export class MessagingClient {
  /** User messages (presence control messages never appear here). */
  readonly messages$: Observable<RoomMessage>;

  // The streams below are made on first read: a process running many clients pays for none it does not use.
  private readonly streams: {
    state?: Observable<MessagingStateName>;
    participants?: Observable<readonly RemoteParticipant[]>;
    added?: Observable<RemoteParticipant>;
    removed?: Observable<RemoteParticipant>;
    updated?: Observable<ParticipantAttributesUpdate>;
  } = {};

  /** 'disabled' | 'enabling' | 'enabled' | 'disabling' | 'closed', replayed. */
  get state$(): Observable<MessagingStateName> {
    return (this.streams.state ??= select(this.parts.actor, messagingStateName));
  }

  /**
   * The current remote participants, in order of appearance, replayed to
   * late subscribers. Kept up to date from the roster's changes (the new
   * list is the last one without who left, plus who came), one list per
   * step however many changes it made; never rebuilt from the roster.
   */
  get participants$(): Observable<readonly RemoteParticipant[]> {
    return (this.streams.participants ??= this.participantList());
  }

  /** A participant enabled messaging (or appeared in a fresh presence snapshot). */
  get participantAdded$(): Observable<RemoteParticipant> {
    return (this.streams.added ??= rosterChanges(this.parts.actor, 'participant.added').pipe(map((event) => this.wrap(event.participant))));
  }

  /** A participant left (disabled messaging, disconnected, or presence was cleared). */
  get participantRemoved$(): Observable<RemoteParticipant> {
    return (this.streams.removed ??= rosterChanges(this.parts.actor, 'participant.removed').pipe(map((event) => this.wrap(event.participant))));
  }

  /** A participant's attributes changed. */
  get participantAttributesUpdated$(): Observable<ParticipantAttributesUpdate> {
    return (this.streams.updated ??= rosterChanges(this.parts.actor, 'participant.attributes_updated').pipe(
      map((event) => ({ participant: this.wrap(event.participant), changed: event.changed, attributes: event.participant.attributes })),
    ));
  }

  private readonly presence: PresenceSource;
  private readonly departures: { unsubscribe(): void };
  private readonly listeners: Listeners<MessagingEventName, RoomMessageEvent>;

  constructor(private readonly parts: MessagingClientParts) {
    const { actor } = parts;
    this.presence = {
      actor,
      roster: () => actor.getSnapshot().context.participants,
      actorOf: (id) => {
        const entry = actor.getSnapshot().context.participants.get(id);
        return entry === undefined ? undefined : parts.presenceActors.actorOf(entry);
      },
    };
    this.messages$ = parts.messages;
    // Subscribed first, so a departed participant is marked gone before anyone hears of it.
    this.departures = actor.on('roster.changed', (event) => {
      for (const change of event.changes) {
        if (change.type === 'participant.removed') (appearanceOf(change.participant).view as RemoteParticipant | undefined)?.markGone(change.participant);
      }
    });
    this.listeners = new Listeners<MessagingEventName, RoomMessageEvent>((name) => this.source(name));
  }

  /**
   * `participants$`: the roster's list once, on subscription; then, on each
   * step that changed membership, the previous list without the removed,
   * plus the added (their keys are newer than everyone's, so order holds).
   * The machine announces changes before the step's snapshot is published,
   * so the changes of a step are all in hand when its snapshot arrives.
   */
  private participantList(): Observable<readonly RemoteParticipant[]> {
    const { actor } = this.parts;
    return new Observable<readonly RemoteParticipant[]>((subscriber) => {
      let list: readonly RemoteParticipant[] | undefined;
      const added: RemoteParticipant[] = [];
      const removed = new Set<RemoteParticipant>();
      const changes = actor.on('roster.changed', (event) => {
        for (const change of event.changes) {
          if (change.type === 'participant.added') added.push(this.wrap(change.participant));
          else if (change.type === 'participant.removed') removed.add(this.wrap(change.participant));
        }
      });
      const lists = select(actor, (snapshot) => snapshot.context.participants, sameMembers).subscribe({
        next: (roster) => {
          if (list === undefined) list = roster.list().map((entry) => this.wrap(entry));
          else if (added.length > 0 || removed.size > 0) {
            const next = list.concat(added);
            list = removed.size === 0 ? next : next.filter((participant) => !removed.has(participant));
          }
          added.length = 0;
          removed.clear();
          subscriber.next(list);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => {
        changes.unsubscribe();
        lists.unsubscribe();
      };
    }).pipe(shareReplay({ bufferSize: 1, refCount: true }));
  }

  /**
   * The one participant object of this appearance of `entry`'s participant:
   * made on first use and kept in the appearance's roster entry (its `view`
   * slot), so it lives exactly as long as anyone holds it or the entry.
   */
  private wrap(entry: PresenceEntry): RemoteParticipant {
    const first = appearanceOf(entry);
    return (first.view as RemoteParticipant | undefined) ?? (first.view = new RemoteParticipant(entry, this.presence));
  }

  /**
   * The official client's events, event by event: `participant_added`,
   * `participant_removed` and `participant_attributes_updated` fire only for
   * the server's `participant.*` pushes (never for members of a
   * `messaging.enabled` snapshot, which fire only `messaging_enabled`), and
   * `message` fires for every message received, presence control messages
   * included. A participant event carries the control message as decoded
   * (the very object `message` listeners get), not a copy.
   */
  private source(name: MessagingEventName): Observable<RoomMessageEvent> {
    const { actor } = this.parts;
    switch (name) {
      case 'message':
        return merge(this.messages$, this.parts.controlMessages).pipe(map((message) => messageEvent(message)));
      case 'participant_added':
        return rosterChanges(actor, 'participant.added').pipe(
          filter((event) => event.origin === 'event'),
          map((event) => {
            const participant = this.wrap(event.participant);
            return messageEvent((event.received as RoomMessage | undefined) ?? addedMessage(participant, event.participant.attributes), participant);
          }),
        );
      case 'participant_removed':
        return rosterChanges(actor, 'participant.removed').pipe(
          filter((event) => event.origin === 'event'),
          map((event) => {
            const participant = this.wrap(event.participant);
            return messageEvent((event.received as RoomMessage | undefined) ?? removedMessage(participant), participant);
          }),
        );
      case 'participant_attributes_updated':
        return rosterChanges(actor, 'participant.attributes_updated').pipe(
          filter((event) => event.origin === 'event'),
          map((event) => {
            const participant = this.wrap(event.participant);
            return messageEvent((event.received as RoomMessage | undefined) ?? attributesMessage(participant, event.changed), participant);
          }),
        );
      case 'messaging_enabled':
        return emitted(actor, 'presence.loaded').pipe(
          map((event) => messageEvent(enabledMessage(this.parts.connection.getSnapshot().context.participantId, event.participants))),
        );
    }
  }

  /** The current state name. */
  get state(): MessagingStateName {
    return messagingStateName(this.parts.actor.getSnapshot());
  }

  /** True when the user wants messaging enabled (enabling or enabled), as the official `isEnabled`. */
  get isEnabled(): boolean {
    const state = this.state;
    return state === 'enabling' || state === 'enabled';
  }

  /** True while messaging is enabled on the current connection. */
  get online(): boolean {
    return this.state === 'enabled';
  }

  /** Sends and broadcasts written and awaiting the server's answer (at most `sendWindow`). */
  get sendsInFlight(): number {
    return this.parts.outbox.pending;
  }

  /** Sends and broadcasts waiting in the outbox to go out. */
  get sendsQueued(): number {
    return this.parts.outbox.queued;
  }

  /** The current remote participants. */
  get remoteParticipants(): RemoteParticipant[] {
    return this.presence.roster().list().map((entry) => this.wrap(entry));
  }

  /** The current remote participants. */
  getParticipants(): RemoteParticipant[] {
    return this.remoteParticipants;
  }

  /** The remote participant with this id, or null. */
  getParticipant(id: string): RemoteParticipant | null {
    const entry = this.presence.roster().get(id);
    return entry === undefined ? null : this.wrap(entry);
  }

  /**
   * Resolves with the remote participant named `name` as soon as it is
   * present (at once if it already is). Rejects with a `ROOM_ERR_TIMEOUT`
   * {@link RoomStateError} after `timeout` ms, or with
   * {@link RoomClosedError} if the room closes first. Needs messaging
   * enabled (presence is empty otherwise).
   *
   * @example
   * ```ts
   * const planner = await room.messaging.waitForParticipant('planner', { timeout: 10_000 });
   * await room.messaging.sendMessage({ to: planner, type: 'task', message: { goal } });
   * ```
   */
  waitForParticipant(name: string, options: { /** @defaultValue 30000 */ timeout?: number } = {}): Promise<RemoteParticipant> {
    const timeout = options.timeout ?? DEFAULT_WAIT_MS;
    if (!(Number.isFinite(timeout) && timeout > 0)) {
      return Promise.reject(new ValidationError('timeout', `timeout must be a positive number of ms, got ${describeValue(timeout)}.`));
    }
    const what = `participant ${JSON.stringify(name)}`;
    return waitForParticipantIn(
      this.participants$,
      (participants) => participants.find((participant) => participant.getAttribute('name') === name),
      what,
      timeout,
      () => closedError(this.parts.connection.getSnapshot().context.end, `${what} appeared`),
    );
  }

  /**
   * The messages of one `type` whose body `validator` accepts, typed: a
   * type guard `(x: unknown) => x is T` or a schema with `safeParse` (zod).
   * A schema's parsed output replaces the body. Refused bodies go to
   * `onInvalid` (by default a warning to the logger), never to the stream.
   *
   * @example
   * ```ts
   * const Task = z.object({ goal: z.string() });
   * room.messaging.messagesOf('task', Task).subscribe(({ message }) => plan(message.goal));
   * ```
   */
  messagesOf<T>(type: string, validator: MessageValidator<T>, options: MessagesOfOptions = {}): Observable<TypedRoomMessage<T>> {
    const onInvalid =
      options.onInvalid ??
      (({ message }) => this.parts.logger.warn(`roomstate client: dropped a ${JSON.stringify(type)} message from ${message.fromParticipantId}: its body failed validation.`));
    return this.messages$.pipe(messagesOfType(type, validator, onInvalid));
  }

  /** The first remote participant whose `name` attribute is `name`, or null. */
  getParticipantByName(name: string): RemoteParticipant | null {
    return this.remoteParticipants.find((participant) => participant.getAttribute('name') === name) ?? null;
  }

  /**
   * Enables messaging and resolves once the server has confirmed it and the
   * presence snapshot is loaded. Called before `room.start()`, it takes
   * effect on connect. Rejects with {@link RoomServerError} if the server
   * refuses, {@link MessagingDisabledError} if `disable()` is called first,
   * {@link RoomClosedError} if the room closes first.
   */
  async enable(): Promise<void> {
    this.parts.command({ type: 'messaging.enable' });
    const snapshot = await firstValueFrom(
      select(this.parts.actor, (s) => s).pipe(filter((s) => s.status !== 'active' || s.matches('enabled') || s.matches('disabled') || s.matches('disabling'))),
    );
    if (snapshot.status === 'active' && snapshot.matches('enabled')) return;
    if (snapshot.status !== 'active') throw closedError(this.parts.connection.getSnapshot().context.end, 'messaging was enabled');
    const failure = snapshot.context.failure;
    if (failure?.kind === 'refused') throw new RoomServerError(failure.message, failure.code);
    if (failure?.kind === 'timeout') throw new RoomStateError(RoomStateErrorCode.Timeout, `${failure.message}.`);
    throw new MessagingDisabledError('messaging was disabled before it was enabled.');
  }

  /**
   * Disables messaging: queued sends are rejected with
   * {@link MessagingDisabledError} and presence is cleared. Resolves once
   * the server has confirmed (at once when offline).
   */
  async disable(): Promise<void> {
    this.parts.command({ type: 'messaging.disable' });
    await firstValueFrom(select(this.parts.actor, (s) => s).pipe(filter((s) => s.status !== 'active' || s.matches('disabled') || s.matches('enabling'))));
  }

  /**
   * Sends a message to one participant. Resolves when the server accepted it.
   * Queued while enabling or reconnecting; rejects with
   * {@link ParticipantNotFoundError} ("the participant was not found") when
   * the recipient is unknown or gone.
   */
  sendMessage(options: SendMessageOptions): Promise<void> {
    let messageJson: string;
    try {
      messageJson = validateMessage(options.type, options.message, options.attachment);
      if (options.to === undefined || options.to === null || options.to === '') {
        throw new ValidationError('to', `to must be a participant or a participant id, got ${describeValue(options.to)}.`);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.parts.outbox.submit({
      tool: 'send',
      to: options.to,
      type: options.type,
      message: options.message,
      messageJson,
      ...(options.attachment === undefined ? {} : { attachment: options.attachment }),
      ignoreOffline: options.ignoreOffline ?? false,
    });
  }

  /**
   * Replies to the sender of a received message (type: the received one's,
   * unless given). Resolves with `{ sent: true }`, or with `{ sent: false,
   * reason: 'sender_left' }` when the sender has left: never an unhandled
   * {@link ParticipantNotFoundError} from a sender that did not wait for the
   * answer (pass `rejectIfGone` to get the rejection instead). Other
   * failures reject as {@link sendMessage}'s do.
   *
   * @example
   * ```ts
   * room.messaging.messagesOf('chat', isChat).subscribe(async (m) => {
   *   const result = await room.messaging.reply(m, { message: { text: m.message.text } });
   *   if (!result.sent) console.log(`${result.participantId} left before the reply`);
   * });
   * ```
   */
  reply(to: Pick<RoomMessage, 'fromParticipantId' | 'type'>, options: ReplyOptions): Promise<ReplyResult> {
    return replyWith((send) => this.sendMessage(send), to, options);
  }

  /** Fire-and-forget {@link sendMessage} with `ignoreOffline`, as the official `sendMessageNowait`. */
  sendMessageNowait(options: Omit<SendMessageOptions, 'ignoreOffline'>): void {
    this.sendMessage({ ...options, ignoreOffline: true }).catch(() => undefined);
  }

  /** Sends a message to every other messaging-enabled participant. Queued like {@link sendMessage}. */
  broadcastMessage(options: BroadcastMessageOptions): Promise<void> {
    let messageJson: string;
    try {
      messageJson = validateMessage(options.type, options.message, options.attachment);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.parts.outbox.submit({
      tool: 'broadcast',
      type: options.type,
      message: options.message,
      messageJson,
      ...(options.attachment === undefined ? {} : { attachment: options.attachment }),
      ignoreOffline: false,
    });
  }

  /**
   * Calls `callback` for each event with an official SDK name (`message`,
   * `participant_added`, `participant_removed`,
   * `participant_attributes_updated`, `messaging_enabled`). Returns a
   * function that unsubscribes.
   */
  on(name: MessagingEventName, callback: MessagingEventListener): () => void {
    return this.listeners.on(name, callback);
  }

  /** Removes a callback registered with {@link on}. */
  off(name: MessagingEventName, callback: MessagingEventListener): void {
    this.listeners.off(name, callback);
  }

  /** @internal Removes every `on` registration (the room closed). */
  dispose(): void {
    this.listeners.clear();
    this.departures.unsubscribe();
    this.parts.presenceActors.stop();
  }
}
