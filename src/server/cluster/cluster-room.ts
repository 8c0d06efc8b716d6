/**
 * One room on a cluster node: the local members, and a replica of the
 * room's cluster-wide messaging-enabled roster, so lookups and snapshots stay
 * synchronous. The replica is seeded from Redis when the room opens on this
 * node and kept current by the room channel's presence events; pushes for
 * remote changes are sent only when the replica actually changes, which makes
 * replaying events and reconciling after an outage idempotent.
 */
import { ErrorCode, MessagingControlType, PARTICIPANT_NOT_FOUND_TEXT } from '../../protocol/index.js';
import { participantAttributesBodyJson, participantDisabledBodyJson, participantEnabledBodyJson } from '../../protocol/presence.js';
import { messagingPrefix, type FrameEncoder } from '../core/frame-encoder.js';
import { OutgoingMessage } from '../core/outgoing-message.js';
import { PresenceRoster } from '../core/presence-roster.js';
import { RequestError } from '../core/request-error.js';
import { EnabledSet, type Room } from '../core/room-directory.js';
import type { PresenceChange, RoomMember } from '../core/room-member.js';
import { broadcastHeader, directHeader, type BusMessage, type MemberRecord, type PresenceEvent } from './bus.js';

/** What a room needs from its node's link to Redis. */
export interface ClusterLink {
  /** This node's id. */
  readonly nodeId: string;
  /** Encoder of the pushes a node makes itself (reconciliation, reaped nodes). */
  readonly encoder: FrameEncoder;
  /** Throws a `RequestError` when messages cannot be relayed to other nodes now. */
  assertRelay(): void;
  /** Whether `node`'s lease ran out (it is about to be reaped). */
  isStale(node: string): boolean;
  /** Channel of the direct messages to `node`'s members of `room`. */
  directChannel(room: string, node: string): string;
  /** Channel of a room's broadcasts and presence. */
  roomChannel(room: string): string;
  /**
   * Publishes `header` and the message's frames on `channel`; resolves to the
   * number of nodes that took it, rejects with a `RequestError` when the
   * publish failed. Throws like {@link ClusterLink.assertRelay}.
   */
  relay(channel: string, header: Buffer, message: OutgoingMessage, stream?: string): Promise<number>;
  /** The room's relay stream: relays to resumable participants are kept there too. */
  relayStream(room: string): string;
  /** Records and publishes a local member's presence change. */
  announce(room: string, change: PresenceChange, record: MemberRecord, announcement: OutgoingMessage): void;
}

/** Where relayed messages go, and the bytes before their frames (built once, on first use). */
interface Route {
  readonly channel: string;
  readonly header: Buffer;
}

/** Answer to a send whose target's node did not take it, while the target is still listed. */
export const NODE_UNREACHABLE_TEXT =
  "the participant's node did not take the message (it may have stopped; its participants are removed when its lease runs out): the message was not delivered.";

/** A participant connected to another node. */
export class RemoteMember implements RoomMember {
  private route: Route | undefined;

  constructor(
    readonly record: MemberRecord,
    private readonly room: ClusterRoom,
    private readonly link: ClusterLink,
  ) {}

  get id(): string {
    return this.record.id;
  }

  get role(): string {
    return this.record.role;
  }

  get attributes(): Readonly<Record<string, unknown>> {
    return this.record.attributes;
  }

  /**
   * Relays a direct message to this member's node. Resolves once a node took
   * it; rejects with 1003 when the member turned out to be gone, 1008 while
   * its node is silent but the member still listed.
   */
  deliver(message: OutgoingMessage): Promise<void> {
    const resumable = this.record.r === 1;
    // A resumable member's messages are kept in the relay stream: its node may die, and it resume elsewhere.
    if (!resumable && this.link.isStale(this.record.n)) throw new RequestError(NODE_UNREACHABLE_TEXT, ErrorCode.OperationFailed);
    // Being taken over by this node: kept here, delivered right after what the takeover replays.
    if (this.room.capture(this.record.id, message)) return Promise.resolve();
    this.route ??= { channel: this.link.directChannel(this.room.name, this.record.n), header: directHeader(this.room.name, this.record.id) };
    return this.link.relay(this.route.channel, this.route.header, message, resumable ? this.room.stream : undefined).then(this.taken);
  }

  /** The member's session moved to another node (it resumed there): relays go to that node from now on. */
  moved(node: string): void {
    this.record.n = node;
    this.route = undefined;
  }

  private readonly taken = (receivers: number): void => {
    // Kept in the relay stream, a resumable member's message waits there for its resume.
    if (receivers > 0 || this.record.r === 1) return;
    if (this.room.enabledMember(this.id) !== this) throw new RequestError(PARTICIPANT_NOT_FOUND_TEXT, ErrorCode.NotFound);
    throw new RequestError(NODE_UNREACHABLE_TEXT, ErrorCode.OperationFailed);
  };
}

/** The record of a local member, as the roster stores it. */
export function memberRecord(node: string, member: RoomMember): MemberRecord {
  const record: MemberRecord = { n: node, id: member.id, role: member.role, attributes: member.attributes };
  if (member.resumable === true) record.r = 1;
  return record;
}

/** Whether relay stream id `a` comes after `b` (ids are `ms-seq`). */
export function streamIdAfter(a: string, b: string): boolean {
  const dashA = a.indexOf('-');
  const dashB = b.indexOf('-');
  const msA = Number(a.slice(0, dashA));
  const msB = Number(b.slice(0, dashB));
  return msA !== msB ? msA > msB : Number(a.slice(dashA + 1)) > Number(b.slice(dashB + 1));
}

function ignoreCount(): void {}

/** A room as one node of a cluster sees it. */
export class ClusterRoom implements Room {
  /** Ids of local members and reserved places. */
  readonly ids = new Set<string>();
  /** Local messaging-enabled members. */
  readonly local = new EnabledSet();
  /** Set once the replica is seeded. */
  ready: Promise<void> | undefined;
  /** Every node's messaging-enabled members (the local ones are also in {@link ClusterRoom.local}). */
  private readonly roster = new PresenceRoster();
  private remote = 0;
  /** Remote enabled members that are resumable: broadcasts are then kept in the relay stream. */
  private resumableRemote = 0;
  private broadcastRoute: Route | undefined;
  /** Bus messages held back while a roster snapshot is being read (with their relay stream id, if any). */
  private held: Array<[BusMessage, string | undefined]> | undefined;
  /** Id of the last relay stream entry handled here: a resumable session's journal records it. */
  relayCursor: string | undefined;
  /**
   * Members taken over from a dead node, with the last relay stream entry
   * their takeover replayed: the same relays coming by pub/sub are not
   * delivered to them again.
   */
  private readonly floors = new Map<string, string>();
  /** The room's relay stream key. */
  readonly stream: string;
  /**
   * Members this node is taking over, with what its own members sent them
   * since the takeover read the relay stream: relayed to the dead node's
   * channel, those would come back after this node's later, local sends.
   */
  private readonly capturing = new Map<string, OutgoingMessage[]>();

  constructor(
    readonly name: string,
    private readonly link: ClusterLink,
  ) {
    this.stream = link.relayStream(name);
  }

  get size(): number {
    return this.ids.size;
  }

  get enabledCount(): number {
    return this.roster.size;
  }

  /** Whether any enabled member is on another node. */
  get spansNodes(): boolean {
    return this.remote > 0;
  }

  enabledMember(id: string): RoomMember | undefined {
    return this.roster.get(id);
  }

  snapshot(recipient: RoomMember, encoder: FrameEncoder, listed: boolean): OutgoingMessage {
    return this.roster.snapshot(recipient, encoder, listed);
  }

  announce(member: RoomMember, change: PresenceChange, announcement: OutgoingMessage): void {
    this.local.apply(member, change);
    this.roster.apply(member, change);
    this.local.deliver(announcement, member);
    this.link.announce(this.name, change, memberRecord(this.link.nodeId, member), announcement);
  }

  fanOut(message: OutgoingMessage, except?: RoomMember): Promise<void> | undefined {
    // All or nothing: a broadcast some nodes would miss is refused before anyone gets it.
    if (this.remote > 0) this.link.assertRelay();
    this.local.deliver(message, except);
    if (this.capturing.size > 0) for (const [id, kept] of this.capturing) if (id !== except?.id) kept.push(message);
    if (this.remote === 0) return undefined;
    this.broadcastRoute ??= { channel: this.link.roomChannel(this.name), header: broadcastHeader(this.link.nodeId) };
    return this.link.relay(this.broadcastRoute.channel, this.broadcastRoute.header, message, this.resumableRemote > 0 ? this.stream : undefined).then(ignoreCount);
  }

  /** Starts keeping what this node's members send member `id`, which it is taking over (see {@link ClusterRoom.capturing}). */
  startCapture(id: string): void {
    this.capturing.set(id, []);
  }

  /** What was kept for member `id` since {@link ClusterRoom.startCapture}, oldest first; it is kept no more. */
  endCapture(id: string): OutgoingMessage[] {
    const kept = this.capturing.get(id) ?? [];
    this.capturing.delete(id);
    return kept;
  }

  /** Keeps `message` for member `id` when it is being taken over; whether it did. */
  capture(id: string, message: OutgoingMessage): boolean {
    const kept = this.capturing.get(id);
    if (kept === undefined) return false;
    kept.push(message);
    return true;
  }

  /**
   * Puts local `member` in the roster in place of the remote entry with its
   * id, announcing nothing: its session was taken over from a dead node,
   * and the relays up to `floor` were replayed to it already.
   */
  takeOver(member: RoomMember, enabled: boolean, floor: string): void {
    const current = this.roster.get(member.id);
    if (current instanceof RemoteMember) {
      this.roster.remove(member.id);
      this.remote--;
      if (current.record.r === 1) this.resumableRemote--;
    }
    if (enabled) {
      this.local.apply(member, 'enabled');
      this.roster.apply(member, 'enabled');
    }
    this.floors.set(member.id, floor);
  }

  /** Forgets a local member (it left or its place was released). */
  remove(id: string): void {
    this.ids.delete(id);
    const member = this.local.members.get(id);
    if (member === undefined) return;
    this.local.apply(member, 'disabled');
    this.roster.remove(id);
  }

  /** Holds bus messages back until {@link ClusterRoom.reconcile} (a snapshot is on its way). */
  hold(): void {
    this.held ??= [];
  }

  /** Handles a message from the room channel or for a local member (`relayId`: its relay stream entry, if kept there). */
  receive(message: BusMessage, relayId?: string): void {
    if (this.held !== undefined) {
      this.held.push([message, relayId]);
      return;
    }
    if (relayId !== undefined) this.relayCursor = relayId;
    switch (message.kind) {
      case 'broadcast':
        if (message.node === this.link.nodeId) return;
        if (relayId !== undefined && this.floors.size > 0) this.deliverAbove(new OutgoingMessage(message.wire), relayId);
        else this.local.deliver(new OutgoingMessage(message.wire));
        return;
      case 'direct':
        if (relayId !== undefined && this.floors.size > 0 && !this.above(message.id, relayId)) return;
        this.local.members.get(message.id)?.deliver(new OutgoingMessage(message.wire));
        return;
      case 'presence':
        this.applyPresence(message.event, message.wire);
    }
  }

  /** Whether relay `relayId` is new to member `id` (not replayed at its takeover); forgets a floor it passed. */
  private above(id: string, relayId: string): boolean {
    const floor = this.floors.get(id);
    if (floor === undefined) return true;
    if (!streamIdAfter(relayId, floor)) return false;
    this.floors.delete(id);
    return true;
  }

  /** Delivers a kept broadcast to the local members it is new to. */
  private deliverAbove(message: OutgoingMessage, relayId: string): void {
    for (const member of [...this.local.members.values()]) if (this.above(member.id, relayId)) member.deliver(message);
  }

  /** Stops holding bus messages back and handles those held (the snapshot could not be read). */
  resume(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const [message, relayId] of held) this.receive(message, relayId);
  }

  /**
   * Makes the replica's remote part equal to the roster snapshot (pushing
   * who came, went or changed), then replays the messages held meanwhile:
   * each event is a member's full state, so the last one wins either way.
   * Remote members missing from the roster are dropped, except those `keep`
   * vouches for (after Redis lost its data, until their node re-registers).
   */
  reconcile(roster: Record<string, string>, keep?: (member: RemoteMember) => boolean): void {
    const held = this.held ?? [];
    this.held = undefined;
    const seen = new Set<string>();
    for (const json of Object.values(roster)) {
      const record = JSON.parse(json) as MemberRecord;
      if (record.n === this.link.nodeId) continue;
      seen.add(record.id);
      this.applyPresence({ c: 'enabled', ...record }, undefined);
    }
    for (const member of [...this.roster.members()]) {
      if (member instanceof RemoteMember && !seen.has(member.id) && keep?.(member) !== true) this.applyPresence({ c: 'disabled', n: member.record.n, id: member.id }, undefined);
    }
    for (const [message, relayId] of held) this.receive(message, relayId);
  }

  private applyPresence(event: PresenceEvent, wire: Buffer | undefined): void {
    if (event.n === this.link.nodeId) return;
    const current = this.roster.get(event.id);
    // Stale news about a local member (e.g. from before a reconnect) never wins over the session.
    if (current !== undefined && !(current instanceof RemoteMember)) return;
    const { encoder } = this.link;
    const prefix = messagingPrefix(event.id);
    if (event.c === 'disabled') {
      if (current === undefined) return;
      this.roster.remove(event.id);
      this.remote--;
      if ((current as RemoteMember).record.r === 1) this.resumableRemote--;
      this.local.deliver(wire ? new OutgoingMessage(wire) : encoder.messaging(prefix, MessagingControlType.ParticipantDisabled, participantDisabledBodyJson(event.id)));
      return;
    }
    const record: MemberRecord = { n: event.n, id: event.id, role: event.role ?? current?.role ?? '', attributes: event.attributes ?? {} };
    if (event.r === 1) record.r = 1;
    if (current === undefined) {
      if (event.c !== 'enabled') return;
      this.roster.apply(new RemoteMember(record, this, this.link), 'enabled');
      this.remote++;
      if (record.r === 1) this.resumableRemote++;
      this.local.deliver(wire ? new OutgoingMessage(wire) : encoder.messaging(prefix, MessagingControlType.ParticipantEnabled, participantEnabledBodyJson(record)));
      return;
    }
    // A session taken over by another node (its node died) stays the same participant: no push.
    if (current.record.n !== event.n) current.moved(event.n);
    if (JSON.stringify(current.attributes) === JSON.stringify(record.attributes)) return;
    current.record.attributes = record.attributes;
    this.roster.apply(current, 'attributes');
    this.local.deliver(wire ? new OutgoingMessage(wire) : encoder.messaging(prefix, MessagingControlType.ParticipantAttributes, participantAttributesBodyJson(record.attributes)));
  }
}
