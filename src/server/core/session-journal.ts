/**
 * A resumable session's journal outside the process
 * (docs/cluster.md#resuming-after-a-node-died): with one, what the session
 * needs to resume (its identity, counters, last request id and the messages
 * its client has not acknowledged) is kept where another node can take it
 * over when this one dies. The core only knows this interface; the cluster
 * directory implements it on Redis Streams. A node without one (a single
 * in-memory node) pays nothing: its sessions die with the process.
 */
import type { OutgoingMessage } from './outgoing-message.js';
import type { RoomMember } from './room-member.js';

/** What a journal needs of its session. */
export interface JournaledSession {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  /** Highest request id the session handled; -1 before any. */
  readonly lastRequestId: number;
  /**
   * Messages up to sequence `sequence` are in the journal (or cannot be put
   * there now: the store is unreachable), so they may be written to the
   * client: whatever a client read, a takeover can count on.
   */
  journaled(sequence: number): void;
  /** Another node took the session over (this one was thought dead): it ends here without a word to the room. */
  takenOver(): void;
}

/** One session's journal writer. */
export interface SessionJournal {
  /** Message number `sequence` was sent to the session (written out once {@link JournaledSession.journaled} says so). */
  record(sequence: number, message: OutgoingMessage): void;
  /** The client read the first `received` messages: the journal lets them go. */
  acknowledge(received: number): void;
  /** The session ended: its journal goes. */
  end(): void;
}

/** Opens journals for a node's resumable sessions. */
export interface SessionJournals {
  /** A journal for the session with resume key `key` in `room` (`restored`: taken over, its journal already exists). */
  open(key: string, room: string, session: JournaledSession, restored: boolean): SessionJournal;
}

/** A session taken over from a node that died, to be restored as the same participant. */
export interface RestoredSession {
  readonly id: string;
  readonly attributes: Record<string, unknown>;
  /** Messages its client received: the new sequence goes on from there. */
  readonly received: number;
  readonly lastRequestId: number;
  /** Whether it was messaging-enabled: it stays so, with nothing announced. */
  readonly enabled: boolean;
  /** What its client missed, oldest first: delivered (and numbered) after the handshake. */
  readonly replay: readonly OutgoingMessage[];
  /** Puts the restored session in its room in place of its old entry, without announcing it. */
  place(member: RoomMember): void;
}
