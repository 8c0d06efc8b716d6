/**
 * What `room messaging listen` prints, as an observable of NDJSON-ready
 * events, and its reconnect notes. Loaded only when `listen` runs.
 */
import { merge, map, filter, type Observable, type Subscription } from 'rxjs';
import { note } from '../../output.js';
import { addedEvent, attributesEvent, messageEvent, removedEvent } from './participant-json.js';
import type { OpenRoom } from './session.js';

/** The `listen` options that choose what is printed. */
export interface ListenSelection {
  /** Print presence events too. */
  presence?: boolean;
  /** Print only messages of these types. */
  type?: string[];
}

/** Notes on stderr when the connection drops and comes back (with --reconnect-timeout). */
export function reconnectNotes(room: OpenRoom): Subscription {
  let lost = false;
  return room.client.connectionState$.subscribe((state) => {
    if (state === 'reconnecting' && !lost) {
      lost = true;
      note('connection lost, reconnecting...');
    } else if (state === 'connected' && lost) {
      lost = false;
      note(`reconnected as participant ${room.client.localParticipant.id}.`);
    }
  });
}

/** Every event to print, as NDJSON-ready objects. */
export function events(room: OpenRoom, options: ListenSelection): Observable<Record<string, unknown>> {
  const messaging = room.client.messaging;
  const types = options.type === undefined ? undefined : new Set(options.type);
  const messages = messaging.messages$.pipe(
    filter((message) => types === undefined || types.has(message.type)),
    map((message) => messageEvent(message, messaging.getParticipant(message.fromParticipantId))),
  );
  if (!options.presence) return messages;
  return merge(
    messages,
    messaging.participantAdded$.pipe(map(addedEvent)),
    messaging.participantRemoved$.pipe(map(removedEvent)),
    messaging.participantAttributesUpdated$.pipe(map(attributesEvent)),
  );
}
