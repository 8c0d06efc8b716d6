/**
 * A room's messaging-enabled members, in enabling order: the one record of
 * presence on a node (both directories' rooms keep theirs here), and the
 * `messaging.enabled` snapshot built from it.
 *
 * Memory stays linear in the room's size: each member's JSON is cached once
 * (and rebuilt only when its attribute map is replaced), the snapshot body
 * is kept once per room as UTF-8 bytes, and the last encoded snapshot is
 * kept once per room (so a client repeating `enable` gets the same bytes)
 * rather than once per session.
 *
 * A join storm costs a copy per snapshot, not a rebuild: members who enable
 * are appended to the body's bytes, whose earlier bytes never change (a
 * snapshot is that body up to its end, copied into the frames), so a
 * joiner into a room of N costs one copy of N members' bytes. Any other
 * change (a member leaves, attributes are announced) drops the bytes, and
 * the next snapshot builds them again.
 */
import { MessagingControlType } from '../../protocol/index.js';
import { memberJson, snapshotBodyJson, SNAPSHOT_BODY_HEAD, SNAPSHOT_BODY_SEPARATOR, SNAPSHOT_BODY_TAIL } from '../../protocol/presence.js';
import { messagingPrefix, type FrameEncoder } from './frame-encoder.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { PresenceChange, RoomMember } from './room-directory.js';

const BODY_HEAD = Buffer.from(SNAPSHOT_BODY_HEAD, 'utf8');
const BODY_TAIL = Buffer.from(SNAPSHOT_BODY_TAIL, 'utf8');
/** Smallest capacity of a body's byte buffer. */
const MIN_BODY_CAPACITY = 4096;

/** The snapshot body without its tail, as UTF-8: {@link BODY_HEAD} then every member's JSON, comma-separated. */
interface BodyBytes {
  bytes: Buffer;
  length: number;
}

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
  /** The body's bytes while only appends happened since they were built. */
  private body: BodyBytes | undefined;
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
    if (change === 'enabled' && !this.entries.has(member.id)) {
      const entry = { member, attributes: member.attributes, json: memberJson(member) };
      this.entries.set(member.id, entry);
      if (this.body !== undefined) this.append(this.body, entry.json);
      return;
    }
    if (change === 'enabled') this.entries.set(member.id, { member, attributes: member.attributes, json: memberJson(member) });
    else if (change === 'disabled') this.entries.delete(member.id);
    this.body = undefined;
  }

  /** Removes the member with this id; true when it was there. */
  remove(id: string): boolean {
    if (!this.entries.delete(id)) return false;
    this.epoch++;
    this.body = undefined;
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
    const self = this.entries.get(recipient.id);
    const message =
      self === undefined
        ? encoder.messagingBytes(prefix, MessagingControlType.Enabled, [this.bodyBytes(), BODY_TAIL])
        : // Re-enabling while enabled (rare): every member but the recipient.
          encoder.messaging(prefix, MessagingControlType.Enabled, snapshotBodyJson(this.jsons(self)));
    this.last = { epoch: this.epoch, recipient: recipient.id, message };
    return message;
  }

  /** Every member's JSON but `except`'s, refreshed where the attribute map was replaced. */
  private jsons(except?: Entry): string[] {
    const jsons: string[] = [];
    for (const entry of this.entries.values()) {
      if (entry === except) continue;
      // Attribute maps are replaced, never mutated: a new map means new JSON.
      if (entry.attributes !== entry.member.attributes) {
        entry.attributes = entry.member.attributes;
        entry.json = memberJson(entry.member);
      }
      jsons.push(entry.json);
    }
    return jsons;
  }

  /** The body of every member (without its tail) as bytes: a view that later appends leave unchanged. */
  private bodyBytes(): Uint8Array {
    let body = this.body;
    if (body === undefined) {
      const text = this.jsons().join(SNAPSHOT_BODY_SEPARATOR);
      const length = BODY_HEAD.byteLength + Buffer.byteLength(text, 'utf8');
      // Room to grow: the members who enable next are appended in place.
      const bytes = Buffer.allocUnsafe(Math.max(MIN_BODY_CAPACITY, 2 * length));
      BODY_HEAD.copy(bytes, 0);
      bytes.write(text, BODY_HEAD.byteLength, 'utf8');
      this.body = body = { bytes, length };
    }
    return body.bytes.subarray(0, body.length);
  }

  /** Appends one member's JSON to the body's bytes, moving them to a buffer twice as big when full (views of the old one stay valid). */
  private append(body: BodyBytes, json: string): void {
    const separator = body.length > BODY_HEAD.byteLength ? SNAPSHOT_BODY_SEPARATOR : '';
    const needed = body.length + separator.length + Buffer.byteLength(json, 'utf8');
    if (needed > body.bytes.byteLength) {
      const bytes = Buffer.allocUnsafe(2 * needed);
      body.bytes.copy(bytes, 0, 0, body.length);
      body.bytes = bytes;
    }
    body.length += body.bytes.write(separator + json, body.length, 'utf8');
  }
}
