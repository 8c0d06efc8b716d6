/**
 * A room's messaging-enabled members, in enabling order: the one record of
 * presence on a node (both directories' rooms keep theirs here), and the
 * `messaging.enabled` snapshot built from it.
 *
 * Memory stays linear in the room's size: each member's JSON is cached once
 * (and rebuilt only when its attribute map is replaced), the snapshot body
 * is built at most once per presence change and shared by every member
 * that enables before the next change, and the last encoded snapshot is
 * kept once per room (so a client repeating `enable` gets the same bytes)
 * rather than once per session.
 */
import { MessagingControlType } from '../../protocol/index.js';
import { memberJson, snapshotBodyJson } from '../../protocol/presence.js';
import { messagingPrefix, type FrameEncoder } from './frame-encoder.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { PresenceChange, RoomMember } from './room-directory.js';

interface Entry {
  readonly member: RoomMember;
  /** The attribute map {@link Entry.json} was built from. */
  attributes: Readonly<Record<string, unknown>>;
  json: string;
}

/** The messaging-enabled members of one room on this node (see the file comment). */
export class PresenceRoster {
  private readonly entries = new Map<string, Entry>();
  /** Changes with every presence change, so a built snapshot can be reused until then. */
  private epoch = 0;
  private body: { readonly epoch: number; readonly json: string } | undefined;
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
      this.entries.set(member.id, { member, attributes: member.attributes, json: memberJson(member) });
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
    const prefix = messagingPrefix(recipient.id);
    if (!listed) return encoder.messaging(prefix, MessagingControlType.Enabled, snapshotBodyJson([]));
    const last = this.last;
    if (last !== undefined && last.epoch === this.epoch && last.recipient === recipient.id) return last.message;
    const message = encoder.messaging(prefix, MessagingControlType.Enabled, this.bodyJson(recipient));
    this.last = { epoch: this.epoch, recipient: recipient.id, message };
    return message;
  }

  /** The snapshot body without `recipient`; shared while the roster is unchanged and the recipient is not in it. */
  private bodyJson(recipient: RoomMember): string {
    const self = this.entries.get(recipient.id);
    if (self === undefined && this.body !== undefined && this.body.epoch === this.epoch) return this.body.json;
    const jsons: string[] = [];
    for (const entry of this.entries.values()) {
      if (entry === self) continue;
      // Attribute maps are replaced, never mutated: a new map means new JSON.
      if (entry.attributes !== entry.member.attributes) {
        entry.attributes = entry.member.attributes;
        entry.json = memberJson(entry.member);
      }
      jsons.push(entry.json);
    }
    const json = snapshotBodyJson(jsons);
    if (self === undefined) this.body = { epoch: this.epoch, json };
    return json;
  }
}
