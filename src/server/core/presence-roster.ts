/**
 * A room's messaging-enabled members, in enabling order: the one record of
 * presence on a node (both directories' rooms keep theirs here), and the
 * `messaging.enabled` snapshot built from it.
 *
 * Memory stays linear in the room's size: each member's JSON is cached once
 * with its UTF-8 length (and rebuilt only when its attribute map is
 * replaced), a snapshot writes those texts straight into its frames (no
 * body string, no intermediate buffer: at 10,000 members a snapshot is
 * about 1 MB), and the last encoded snapshot is kept once per room (so a
 * client repeating `enable` gets the same bytes) rather than once per session.
 */
import { MessagingControlType } from '../../protocol/index.js';
import { SNAPSHOT_BODY, memberJson } from '../../protocol/presence.js';
import { messagingPrefix, type FrameEncoder } from './frame-encoder.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { PresenceChange, RoomMember } from './room-member.js';

interface Entry {
  readonly member: RoomMember;
  /** The attribute map {@link Entry.json} was built from. */
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly json: string;
  /** {@link Entry.json}'s UTF-8 length. */
  readonly bytes: number;
}

/** A member's entry, its JSON built from its current attributes. */
function entryOf(member: RoomMember): Entry {
  const json = memberJson(member);
  return { member, attributes: member.attributes, json, bytes: Buffer.byteLength(json, 'utf8') };
}

/** The messaging-enabled members of one room on this node (see the file comment). */
export class PresenceRoster {
  private readonly entries = new Map<string, Entry>();
  /** Changes with every presence change, so a built snapshot can be reused until then. */
  private epoch = 0;
  private last: { readonly epoch: number; readonly recipient: string; readonly message: OutgoingMessage } | undefined;

  /** Members in the roster. */
  get size(): number {
    return this.entries.size;
  }

  /** The member with this id, if enabled. */
  get(id: string): RoomMember | undefined {
    return this.entries.get(id)?.member;
  }

  /** Applies a presence change: joins or leaves the roster, or new attributes. */
  apply(member: RoomMember, change: PresenceChange): void {
    this.epoch++;
    if (change === 'enabled') {
      this.entries.set(member.id, entryOf(member));
    } else if (change === 'disabled') this.entries.delete(member.id);
  }

  /** Removes the member with this id; true when it was there. */
  remove(id: string): boolean {
    if (!this.entries.delete(id)) return false;
    this.epoch++;
    return true;
  }

  /** Every member, in enabling order. */
  *members(): IterableIterator<RoomMember> {
    for (const entry of this.entries.values()) yield entry.member;
  }

  /** Delivers `message` to every member except `except`; one encoded buffer for all. */
  deliver(message: OutgoingMessage, except?: RoomMember): void {
    for (const entry of this.entries.values()) {
      if (entry.member !== except) entry.member.deliver(message);
    }
  }

  /** Delivers `message` to the members `accept` picks, except `except`. */
  deliverWhere(message: OutgoingMessage, accept: (member: RoomMember) => boolean, except?: RoomMember): void {
    for (const entry of this.entries.values()) {
      const member = entry.member;
      if (member !== except && accept(member)) member.deliver(message);
    }
  }

  /**
   * The `messaging.enabled` push for `recipient`: every other member, or
   * nobody when `listed` is false (the token's `list` grant).
   */
  snapshot(recipient: RoomMember, encoder: FrameEncoder, listed = true): OutgoingMessage {
    const last = this.last;
    if (listed && last !== undefined && last.epoch === this.epoch && last.recipient === recipient.id) return last.message;
    const items: string[] = [];
    let bytes = 0;
    if (listed) {
      const self = this.entries.get(recipient.id);
      for (let entry of this.entries.values()) {
        if (entry === self) continue;
        // Attribute maps are replaced, never mutated: a new map means new JSON.
        if (entry.attributes !== entry.member.attributes) {
          entry = entryOf(entry.member);
          this.entries.set(entry.member.id, entry);
        }
        items.push(entry.json);
        bytes += entry.bytes;
      }
    }
    const { open, separator, close } = SNAPSHOT_BODY;
    const message = encoder.messagingList(messagingPrefix(recipient.id), MessagingControlType.Enabled, open, items, bytes, separator, close);
    if (listed) this.last = { epoch: this.epoch, recipient: recipient.id, message };
    return message;
  }
}
