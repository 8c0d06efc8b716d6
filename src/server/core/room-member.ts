/**
 * What a room knows of one participant, and the presence changes it records:
 * the facts both a room directory and a presence roster are built on.
 */
import type { OutgoingMessage } from './outgoing-message.js';

/** What a room needs to know about one participant. */
export interface RoomMember {
  /** The participant id (unique per connection). */
  readonly id: string;
  /** The role from the token. */
  readonly role: string;
  /** The current attribute map. */
  readonly attributes: Readonly<Record<string, unknown>>;
  /** Whether the participant can resume after a drop (it asked for a resume key); a cluster keeps relays to it. */
  readonly resumable?: boolean;
  /**
   * Delivers an already-encoded message to this participant's connection.
   * Throws a `RequestError` when the participant is out of reach (another
   * node while the backplane is down), so the sender gets an error response.
   * A participant on another node returns a promise that resolves once its
   * node took the message and rejects with a `RequestError` when no node did.
   */
  deliver(message: OutgoingMessage): void | Promise<void>;
}

/** A presence change a room records and announces. */
export type PresenceChange = 'enabled' | 'disabled' | 'attributes';
