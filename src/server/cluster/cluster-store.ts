/**
 * The cluster's shared state in Redis, as operations: admission, leaving,
 * presence records, leases and the removal of dead nodes. Every script
 * touches one hash slot, so the same operations work on one Redis server and
 * on Redis Cluster. Where an operation spans slots, the steps are ordered so
 * that a node dying between two of them leaves only what the reaper (or the
 * node's own reconciliation) removes:
 *
 * - joining writes the node's index of its members first, then the room;
 * - a room's first member then counts the room (`maxRooms`), and undoes the
 *   join when there are too many;
 * - leaving removes the member from the room, then from the node's index,
 *   and uncounts a room it left empty (re-counting it if someone joined
 *   meanwhile).
 */
import type { RoomDirectoryLimits } from '../core/room-directory.js';
import type { PresenceChange } from '../core/room-member.js';
import type { ClusterKeys, MemberRecord } from './bus.js';
import type { RedisClient } from './redis-clients.js';
import { CLUSTER_SCRIPTS, Left, Reserved, type ClusterScriptName } from './scripts.js';

type ScriptArgument = string | number | Buffer;
type ScriptCall = (...args: ScriptArgument[]) => Promise<unknown>;

/** Why a reservation was refused, or undefined when it was made. */
export type ReserveRefusal = 'room full' | 'too many rooms' | undefined;

/** Limits that never refuse (re-registering members after an outage). */
export const NO_LIMITS: RoomDirectoryLimits = Object.freeze({ maxRooms: Infinity, maxParticipantsPerRoom: Infinity });

function limit(value: number): number {
  return Number.isFinite(value) ? value : Number.MAX_SAFE_INTEGER;
}

/** Redis operations of one node's cluster directory. */
export class ClusterStore {
  constructor(
    private readonly redis: RedisClient,
    readonly keys: ClusterKeys,
    /** Runs before every script: relays sent before a script's publish must leave first. */
    private readonly beforeScript: () => void,
  ) {
    for (const [name, script] of Object.entries(CLUSTER_SCRIPTS)) redis.defineCommand(name, script);
  }

  /** Counts member `id` of `node` into `room` against `limits`. */
  async reserve(room: string, id: string, node: string, limits: RoomDirectoryLimits): Promise<ReserveRefusal> {
    const [, reserved] = await Promise.all([
      this.redis.hset(this.keys.nodeMembers(node), id, room),
      this.script('rsReserve', this.keys.members(room), id, node, limit(limits.maxParticipantsPerRoom)),
    ]);
    if (reserved === Reserved.RoomFull) {
      await this.redis.hdel(this.keys.nodeMembers(node), id);
      return 'room full';
    }
    if (reserved === Reserved.OpenedRoom && (await this.script('rsOpenRoom', this.keys.rooms, room, limit(limits.maxRooms))) === 1) {
      await this.leave(room, id, node);
      return 'too many rooms';
    }
    return undefined;
  }

  /** Removes member `id` of `node` from `room` (publishing `disabled` if it was enabled). */
  async leave(room: string, id: string, node: string): Promise<void> {
    const left = await this.script('rsLeave', this.keys.members(room), this.keys.roster(room), id, node, this.keys.roomChannel(room));
    await this.redis.hdel(this.keys.nodeMembers(node), id);
    if (left !== Left.EmptiedRoom) return;
    await this.redis.srem(this.keys.rooms, room);
    // Someone may have joined between the emptying and the uncounting.
    if ((await this.redis.hlen(this.keys.members(room))) > 0) await this.redis.sadd(this.keys.rooms, room);
  }

  /** Records a presence change in the room's roster and publishes `event` on its channel. */
  announce(room: string, change: PresenceChange, record: MemberRecord, event: Buffer): Promise<unknown> {
    return this.script('rsAnnounce', this.keys.roster(room), change, record.id, JSON.stringify(record), this.keys.roomChannel(room), event);
  }

  /** The room's enabled members: id -> {@link MemberRecord} JSON. */
  roster(room: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.roster(room));
  }

  /** Every member `node` holds: id -> room. */
  nodeMembers(node: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.nodeMembers(node));
  }

  /** Renews `node`'s lease; true when it had none (first beat, or the lease was lost). */
  async heartbeat(node: string, leaseMs: number): Promise<boolean> {
    return (await this.script('rsHeartbeat', this.keys.nodes, node, leaseMs)) === 1;
  }

  /** Nodes whose lease ran out and that are not reaped yet. */
  async expired(): Promise<string[]> {
    return (await this.script('rsExpired', this.keys.nodes)) as string[];
  }

  /** Records the URL other nodes reach `node` at. */
  async advertise(node: string, url: string): Promise<void> {
    await this.redis.hset(this.keys.nodeUrls, node, url);
  }

  /** The URL `node` advertised, if it is still listed. */
  async nodeUrl(node: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.nodeUrls, node)) ?? undefined;
  }

  /** Nodes holding a lease (expired or not). */
  leased(): Promise<string[]> {
    return this.redis.zrange(this.keys.nodes, 0, -1);
  }

  /** Removes every member of each node everywhere, then the node. */
  async reap(nodes: readonly string[]): Promise<void> {
    for (const node of nodes) {
      const members = await this.nodeMembers(node);
      await Promise.all(Object.entries(members).map(([id, room]) => this.leave(room, id, node)));
      await this.redis.del(this.keys.nodeMembers(node));
      await this.redis.hdel(this.keys.nodeUrls, node);
      await this.redis.zrem(this.keys.nodes, node);
    }
  }

  /** Cluster-wide counts: nodes, rooms, participants, enabled participants. */
  async stats(): Promise<{ nodes: number; rooms: number; participants: number; enabled: number }> {
    const [nodes, rooms] = await Promise.all([this.redis.zcard(this.keys.nodes), this.redis.smembers(this.keys.rooms)]);
    const counts = await Promise.all(rooms.map((room) => Promise.all([this.redis.hlen(this.keys.members(room)), this.redis.hlen(this.keys.roster(room))])));
    let participants = 0;
    let enabled = 0;
    for (const [members, roster] of counts) {
      participants += members;
      enabled += roster;
    }
    return { nodes, rooms: rooms.length, participants, enabled };
  }

  /** Publishes a relay on `channel` and keeps it in the room's relay stream `stream` for `keepMs`. */
  relayStreamed(stream: string, channel: string, payload: Buffer, keepMs: number): Promise<number> {
    return (this.redis as unknown as Record<string, ScriptCall>).rsRelayStreamed!(stream, channel, payload, keepMs) as Promise<number>;
  }

  /** The node that holds the resumable session with key hash `hash` in `room`, and its participant id; undefined when none is journaled. */
  async sessionOwner(room: string, hash: string): Promise<{ owner: string; id: string } | undefined> {
    const [owner, id] = await this.redis.hmget(this.keys.sessionMeta(room, hash), 'o', 'i');
    return owner === null || id === null ? undefined : { owner, id };
  }

  /** Runs the takeover script (answers as Buffers: the journal holds frames); see scripts.ts. */
  takeOver(room: string, hash: string, node: string, received: number, name: string, role: string): Promise<unknown> {
    this.beforeScript();
    const keys = [this.keys.sessionMeta(room, hash), this.keys.sessionJournal(room, hash), this.keys.relayStream(room), this.keys.members(room)];
    return (this.redis as unknown as Record<string, ScriptCall>).rsTakeOverBuffer!(...keys, node, received, name, role);
  }

  /** Runs a journal script (see session-journal.ts). */
  journal(name: 'rsJournalOpen' | 'rsJournal' | 'rsJournalEnd', ...args: ScriptArgument[]): Promise<unknown> {
    return this.script(name, ...args);
  }

  private script(name: ClusterScriptName, ...args: ScriptArgument[]): Promise<unknown> {
    this.beforeScript();
    return (this.redis as unknown as Record<ClusterScriptName, ScriptCall>)[name](...args);
  }
}
