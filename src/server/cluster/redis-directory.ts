/**
 * The cluster directory: rooms that span every node on one Redis.
 *
 * Each node keeps the rooms it has members in as {@link ClusterRoom}
 * replicas and talks to Redis over two ioredis connections: one for commands
 * (Lua scripts, sharded publishes; auto-pipelined, so a burst of relays is one
 * write) and one subscribed to its node channel and its rooms' channels
 * (SSUBSCRIBE). Admission, roster changes and the removal of dead nodes are
 * Lua scripts; liveness is a lease per node in a sorted set, renewed by a
 * heartbeat and reaped by whichever node sees it expire first.
 *
 * While Redis is unreachable, relays to other nodes are refused with an
 * error response and new participants are refused with 503; local members
 * keep talking. When both connections are back, the node re-registers its
 * lease and members and reconciles every room's replica against Redis.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RoomStateError, RoomStateErrorCode } from '../../errors.js';
import { ErrorCode } from '../../protocol/index.js';
import { FrameEncoder, type OutgoingMessage } from '../core/frame-encoder.js';
import { RequestError } from '../core/request-error.js';
import {
  ROOM_FULL,
  TOO_MANY_ROOMS,
  type AdmissionRefusal,
  type DirectoryStats,
  type PresenceChange,
  type Room,
  type RoomDirectory,
  type RoomDirectoryLimits,
  type RoomMember,
} from '../core/room-directory.js';
import { ClusterKeys, decodeBus, encodePresence, withHeader, type MemberRecord } from './bus.js';
import { resolveClusterOptions, type RedisClusterOptions, type ResolvedClusterOptions } from './cluster-options.js';
import { ClusterRoom, memberRecord, type ClusterLink } from './cluster-room.js';
import { RelayBatcher } from './relay-batcher.js';
import { CLUSTER_SCRIPTS, type ClusterScriptName } from './scripts.js';

/** Error text of a send or broadcast that needs Redis while it is unreachable. */
export const RELAY_UNAVAILABLE_TEXT = 'the cluster relay (Redis) is unreachable: the message was not sent to participants on other nodes; retry later.';
/** Refusal of a new participant while Redis is unreachable. */
export const CLUSTER_UNAVAILABLE: AdmissionRefusal = Object.freeze({ status: 503, reason: 'cluster unavailable' });

type ScriptArgument = string | number | Buffer;
type ScriptCall = (...args: ScriptArgument[]) => Promise<unknown>;

/** A {@link RoomDirectory} shared by every node on one Redis. */
export class RedisRoomDirectory implements RoomDirectory, ClusterLink {
  /** This node's id; new for every process (a restarted node is a new node). */
  readonly nodeId = randomUUID();
  readonly encoder = new FrameEncoder();
  private readonly options: ResolvedClusterOptions;
  private readonly keys: ClusterKeys;
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly rooms = new Map<string, ClusterRoom>();
  private readonly pending = new Set<Promise<unknown>>();
  private heartbeat: NodeJS.Timeout | undefined;
  private registered = false;
  private outage = false;
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;
  /** The last connection error, which says more than ioredis's "Connection is closed". */
  private lastError: Error | undefined;

  constructor(
    options: string | RedisClusterOptions,
    private readonly limits: RoomDirectoryLimits,
    private readonly logger: Logger,
  ) {
    this.options = resolveClusterOptions(options);
    this.keys = new ClusterKeys(this.options.keyPrefix);
    const connection = {
      lazyConnect: true,
      // Fail fast while Redis is away: a relay must be answered with an error, not queued.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
    };
    this.commands = new Redis(this.options.url, { ...connection, enableAutoPipelining: true, connectionName: `roomstate:${this.nodeId}` });
    this.subscriber = new Redis(this.options.url, { ...connection, connectionName: `roomstate-sub:${this.nodeId}` });
    for (const [name, script] of Object.entries(CLUSTER_SCRIPTS)) this.commands.defineCommand(name, script);
    this.subscriber.on('smessageBuffer', (channel: Buffer, message: Buffer) => this.onBusMessage(channel.toString(), message));
    for (const redis of [this.commands, this.subscriber]) {
      redis.on('error', (error: Error) => {
        this.lastError = error;
        this.logger.debug({ err: error }, 'redis error');
      });
      redis.on('close', () => this.lost());
      redis.on('ready', () => this.regained());
    }
  }

  /** Whether both Redis connections are up. */
  get available(): boolean {
    return this.commands.status === 'ready' && this.subscriber.status === 'ready';
  }

  async open(): Promise<void> {
    try {
      await Promise.all([this.commands.connect(), this.subscriber.connect()]);
      await this.subscriber.ssubscribe(this.keys.nodeChannel(this.nodeId));
      await this.beat();
    } catch (error) {
      this.commands.disconnect();
      this.subscriber.disconnect();
      const why = (this.lastError ?? (error as Error)).message;
      throw new RoomStateError(RoomStateErrorCode.ClusterUnavailable, `cannot reach Redis at ${this.options.url} (${why}); start it, or check --redis.`, { cause: error });
    }
    this.heartbeat = setInterval(() => this.run(this.tick(), 'heartbeat'), this.options.heartbeatIntervalMs);
    this.heartbeat.unref();
    this.logger.info({ node: this.nodeId }, 'joined the cluster');
  }

  async reserve(roomName: string, id: string): Promise<Room | AdmissionRefusal> {
    if (!this.available) return CLUSTER_UNAVAILABLE;
    let room = this.rooms.get(roomName);
    if (room === undefined) {
      room = new ClusterRoom(roomName, this);
      this.rooms.set(roomName, room);
    }
    // Held before the first await, so a concurrent last leave does not free the room.
    room.ids.add(id);
    try {
      const limit = (value: number) => (Number.isFinite(value) ? value : Number.MAX_SAFE_INTEGER);
      const result = await this.script('rsReserve', this.keys.members(roomName), this.keys.rooms, this.keys.nodeMembers(this.nodeId), id, this.nodeId, roomName, limit(this.limits.maxParticipantsPerRoom), limit(this.limits.maxRooms));
      if (result !== 0) {
        this.forget(room, id);
        return result === 1 ? ROOM_FULL : TOO_MANY_ROOMS;
      }
      room.ready ??= this.seed(room).catch((error: unknown) => {
        room.ready = undefined;
        throw error;
      });
      await room.ready;
      return room;
    } catch (error) {
      this.logger.warn({ err: error, room: roomName }, 'cluster admission failed');
      this.leave(room, { id });
      return CLUSTER_UNAVAILABLE;
    }
  }

  leave(room: Room, member: Pick<RoomMember, 'id'>): void {
    const own = this.rooms.get(room.name);
    if (own === undefined || own !== room || !own.ids.has(member.id)) return;
    this.forget(own, member.id);
    this.run(this.script('rsLeave', this.keys.prefix, room.name, member.id, this.nodeId), 'leave');
  }

  get(roomName: string): Room | undefined {
    return this.rooms.get(roomName);
  }

  stats(): DirectoryStats {
    let participants = 0;
    let enabled = 0;
    for (const room of this.rooms.values()) {
      participants += room.size;
      enabled += room.local.members.size;
    }
    return { rooms: this.rooms.size, participants, enabled };
  }

  async status(): Promise<Record<string, unknown>> {
    try {
      const [nodes, rooms, participants, enabled] = (await this.script('rsStats', this.keys.nodes, this.keys.rooms, this.keys.prefix)) as number[];
      return { node: this.nodeId, redis: 'ready', cluster: { nodes, rooms, participants, enabled } };
    } catch {
      return { node: this.nodeId, redis: 'unreachable' };
    }
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await Promise.allSettled([...this.pending]);
    // Leaving for good: whatever is left of this node is removed at once, not at lease expiry.
    await this.script('rsReap', this.keys.nodes, this.keys.prefix, this.nodeId).catch(() => undefined);
    await Promise.allSettled([this.commands.quit(), this.subscriber.quit()]);
    // quit() cannot reach a Redis that is away; this also stops reconnecting, so the process can exit.
    this.commands.disconnect();
    this.subscriber.disconnect();
    this.logger.info({ node: this.nodeId }, 'left the cluster');
  }

  assertRelay(): void {
    if (!this.available) throw new RequestError(RELAY_UNAVAILABLE_TEXT, ErrorCode.OperationFailed);
  }

  nodeChannel(node: string): string {
    return this.keys.nodeChannel(node);
  }

  roomChannel(room: string): string {
    return this.keys.roomChannel(room);
  }

  relay(channel: string, header: Buffer, message: OutgoingMessage): void {
    this.assertRelay();
    this.relays.add(channel, withHeader(header, message.wire));
  }

  // The hot path: not tracked (close need not wait for relays), one catch per publish.
  private readonly relays = new RelayBatcher((channel, payload) => {
    this.commands.spublish(channel, payload).catch(this.relayFailed);
  });

  private readonly relayFailed = (error: unknown): void => {
    this.logger.warn({ err: error }, 'cluster relay failed');
  };

  announce(room: string, change: PresenceChange, record: MemberRecord, announcement: OutgoingMessage | undefined): void {
    // While Redis is away the change stays local; reconciliation publishes the state that results.
    if (!this.available) return;
    const event = encodePresence({ c: change, ...record }, announcement?.wire);
    this.run(this.script('rsAnnounce', this.keys.roster(room), change, record.id, JSON.stringify(record), this.keys.roomChannel(room), event), 'presence');
  }

  private script(name: ClusterScriptName, ...args: ScriptArgument[]): Promise<unknown> {
    // Scripts publish presence: relays sent before must leave first.
    this.relays.flush();
    return (this.commands as unknown as Record<ClusterScriptName, ScriptCall>)[name](...args);
  }

  private forget(room: ClusterRoom, id: string): void {
    room.remove(id);
    if (room.ids.size > 0 || this.rooms.get(room.name) !== room) return;
    this.rooms.delete(room.name);
    if (this.available) this.run(this.subscriber.sunsubscribe(this.keys.roomChannel(room.name)), 'unsubscribe');
  }

  /** Subscribes to a room's channel, then reads its roster into the replica. */
  private async seed(room: ClusterRoom): Promise<void> {
    room.hold();
    await this.subscriber.ssubscribe(this.keys.roomChannel(room.name));
    room.reconcile(await this.commands.hgetall(this.keys.roster(room.name)));
  }

  private onBusMessage(channel: string, payload: Buffer): void {
    const message = decodeBus(payload);
    if (message === undefined) {
      this.logger.warn({ channel }, 'ignored a malformed cluster message');
      return;
    }
    if (message.kind === 'batch') {
      for (const part of message.messages) this.onBusMessage(channel, part);
      return;
    }
    const name = message.kind === 'direct' ? message.room : channel.slice(this.keys.roomChannel('').length);
    this.rooms.get(name)?.receive(message);
  }

  private async beat(): Promise<void> {
    const fresh = await this.script('rsHeartbeat', this.keys.nodes, this.nodeId, this.options.leaseMs);
    // A lease that had to be created anew was lost (Redis restarted, or this node was reaped).
    if (fresh === 1 && this.registered) this.regained(true);
    this.registered = true;
  }

  private async tick(): Promise<void> {
    if (!this.available) return;
    // A reconciliation that Redis interrupted is retried here.
    if (this.outage) this.regained();
    await this.beat();
    const reaped = (await this.script('rsReap', this.keys.nodes, this.keys.prefix, '')) as string[];
    if (reaped.length > 0) this.logger.warn({ nodes: reaped }, 'removed the participants of nodes whose lease expired');
  }

  private lost(): void {
    if (this.registered) this.outage = true;
  }

  private regained(leaseLost = false): void {
    if (leaseLost) this.outage = true;
    if (!this.outage || !this.available) return;
    if (this.resyncing) {
      this.resyncAgain = true;
      return;
    }
    this.outage = false;
    this.resyncing = this.resync().finally(() => {
      this.resyncing = undefined;
      if (this.resyncAgain) {
        this.resyncAgain = false;
        this.regained(true);
      }
    });
    this.track(this.resyncing);
  }

  /**
   * After an outage: renew the lease, drop what Redis still holds of members
   * that left meanwhile, put back this node's members and announcements, and
   * reconcile each room's replica against the roster.
   */
  private async resync(): Promise<void> {
    try {
      await this.beat();
      const held = await this.commands.hgetall(this.keys.nodeMembers(this.nodeId));
      for (const [id, roomName] of Object.entries(held)) {
        if (!this.rooms.get(roomName)?.ids.has(id)) await this.script('rsLeave', this.keys.prefix, roomName, id, this.nodeId);
      }
      for (const room of this.rooms.values()) {
        room.hold();
        await this.subscriber.ssubscribe(this.keys.roomChannel(room.name));
        for (const id of room.ids) {
          await this.script('rsReserve', this.keys.members(room.name), this.keys.rooms, this.keys.nodeMembers(this.nodeId), id, this.nodeId, room.name, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
        }
        for (const member of room.local.members.values()) this.announce(room.name, 'enabled', memberRecord(this.nodeId, member), undefined);
        const roster = await this.commands.hgetall(this.keys.roster(room.name));
        for (const json of Object.values(roster)) {
          // Members of this node that were disabled while Redis was away.
          const record = JSON.parse(json) as MemberRecord;
          if (record.n === this.nodeId && !room.local.members.has(record.id)) this.announce(room.name, 'disabled', record, undefined);
        }
        room.reconcile(roster);
      }
      this.logger.info({ node: this.nodeId, rooms: this.rooms.size }, 'reconciled with the cluster after an outage');
    } catch (error) {
      // Lost Redis again: the next `ready` starts over.
      this.outage = true;
      this.logger.warn({ err: error }, 'cluster reconciliation interrupted');
    }
  }

  private run(promise: Promise<unknown>, what: string): void {
    this.track(promise.catch((error: unknown) => this.logger.warn({ err: error }, `cluster ${what} failed`)));
  }

  private track(promise: Promise<unknown>): void {
    this.pending.add(promise);
    const done = () => this.pending.delete(promise);
    promise.then(done, done);
  }
}
