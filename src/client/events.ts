/**
 * `on(event, callback)` with the official SDK's event names and event
 * shapes (`RoomMessageEvent`: `{ name, description, message }`), built on
 * the client's observables, for code written against the official SDK.
 *
 * @packageDocumentation
 */
import type { Observable, Subscription } from 'rxjs';
import type { PresenceRoster } from '../../machines/index.js';
import type { Attributes, RemoteParticipant } from './participants.js';
import type { RoomMessage } from './wire.js';
import { MessagingControlType } from '../protocol/message-types.js';

/** The official SDK's `RoomMessage`: a received message, with `local` always false here. */
export interface RoomMessageLike extends RoomMessage {
  readonly local: boolean;
}

/** The official SDK's `RoomMessageEvent` shape, plus the participant concerned where there is one. */
export interface RoomMessageEvent {
  /** The message type, as in the official SDK. */
  readonly name: string;
  readonly description: string;
  readonly message: RoomMessageLike;
  /** The participant added, removed or updated (participant events only). */
  readonly participant?: RemoteParticipant;
}

/** The event names of the official MessagingClient. */
export type MessagingEventName = 'message' | 'participant_added' | 'participant_removed' | 'participant_attributes_updated' | 'messaging_enabled';

/** A callback for {@link MessagingEventName}s. */
export type MessagingEventListener = (event: RoomMessageEvent) => void;

/** Builds a `RoomMessageEvent`. */
export function messageEvent(message: RoomMessage, participant?: RemoteParticipant): RoomMessageEvent {
  const full: RoomMessageLike = { ...message, local: false };
  return {
    name: message.type,
    description: `a message was received ${JSON.stringify(message.message)}`,
    message: full,
    ...(participant === undefined ? {} : { participant }),
  };
}

/** The `participant.enabled` message of a `participant_added` event, for a machine event that carries none as received (a machine driven directly). */
export function addedMessage(participant: RemoteParticipant, attributes: Attributes): RoomMessage {
  return { fromParticipantId: participant.id, type: MessagingControlType.ParticipantEnabled, message: { id: participant.id, role: participant.role, attributes } };
}

/** The `participant.disabled` message of a `participant_removed` event, for a machine event that carries none as received. */
export function removedMessage(participant: RemoteParticipant): RoomMessage {
  return { fromParticipantId: participant.id, type: MessagingControlType.ParticipantDisabled, message: { id: participant.id } };
}

/** The `participant.attributes` message of a `participant_attributes_updated` event, when none was received as such (e.g. a repeated `participant.enabled`). */
export function attributesMessage(participant: RemoteParticipant, changed: Attributes): RoomMessage {
  return { fromParticipantId: participant.id, type: MessagingControlType.ParticipantAttributes, message: { attributes: changed } };
}

/** The `messaging.enabled` message of a `messaging_enabled` event. */
export function enabledMessage(localId: string, roster: PresenceRoster): RoomMessage {
  const participants = roster.list().map((entry) => ({ id: entry.id, role: entry.role, attributes: entry.attributes }));
  return { fromParticipantId: localId, type: MessagingControlType.Enabled, message: { participants } };
}

/**
 * Callback registrations over observables: `on` returns an unsubscribe
 * function; `off` removes a callback registered with `on`.
 */
export class Listeners<TName extends string, TEvent> {
  private readonly registered = new Map<TName, Map<(event: TEvent) => void, Subscription[]>>();

  constructor(private readonly sources: (name: TName) => Observable<TEvent>) {}

  /** Calls `callback` for every `name` event until the returned function is called. */
  on(name: TName, callback: (event: TEvent) => void): () => void {
    const subscription = this.sources(name).subscribe(callback);
    let byCallback = this.registered.get(name);
    if (byCallback === undefined) this.registered.set(name, (byCallback = new Map()));
    const list = byCallback.get(callback) ?? [];
    list.push(subscription);
    byCallback.set(callback, list);
    return () => {
      subscription.unsubscribe();
      const current = this.registered.get(name)?.get(callback);
      if (current === undefined) return;
      const rest = current.filter((s) => s !== subscription);
      if (rest.length > 0) this.registered.get(name)!.set(callback, rest);
      else this.registered.get(name)!.delete(callback);
    };
  }

  /** Removes every registration of `callback` for `name`. */
  off(name: TName, callback: (event: TEvent) => void): void {
    const list = this.registered.get(name)?.get(callback);
    if (list === undefined) return;
    for (const subscription of list) subscription.unsubscribe();
    this.registered.get(name)!.delete(callback);
  }

  /** Removes every registration. */
  clear(): void {
    for (const byCallback of this.registered.values()) for (const list of byCallback.values()) for (const s of list) s.unsubscribe();
    this.registered.clear();
  }
}
