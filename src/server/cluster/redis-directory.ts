/**
 * The cluster directory: rooms that span every node on one Redis server or
 * one Redis Cluster.
 *
 * Each node keeps the rooms it has members in as {@link ClusterRoom}
 * replicas and talks to Redis over two clients (see `redis-clients.ts`): one
 * for commands and one subscribed (SSUBSCRIBE) to its rooms' channels.
 * Admission, roster changes and the removal of dead nodes go through
 * {@link ClusterStore}; liveness is a lease per node in a sorted set, renewed
 * by a heartbeat and reaped by whichever node sees it expire first.
 *
 * While Redis is unreachable the node stays available for what it can do
 * alone: it admits new participants (counted against the limits locally
 * only), and local members keep talking; relays to other nodes are answered
 * with an error. Once Redis answers again, the node re-registers its lease
 * and members (whatever the limits) and reconciles every room's replica
 * against Redis. After Redis lost its data, members of other nodes stay
 * listed until their node registers again or, if it never does, for one
 * lease.
 */
import { randomUUID } from 'node:crypto';
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
  type Room,
  type RoomDirectory,
  type RoomDirectoryLimits,
} from '../core/room-directory.js';
import type { PresenceChange, RoomMember } from '../core/room-member.js';
import { ClusterKeys, decodeBus, encodePresence, withHeader, type MemberRecord } from './bus.js';
import { describeRedis, resolveClusterOptions, type RedisClusterOptions, type ResolvedClusterOptions } from './cluster-options.js';
import { ClusterRoom, memberRecord, type ClusterLink } from './cluster-room.js';
import { ClusterStore, NO_LIMITS } from './cluster-store.js';
import { createRedisClients, type RedisClient } from './redis-clients.js';
import { RelayBatcher } from './relay-batcher.js';
import { ResumeRefusal } from '../../protocol/resume.js';
import type { RestoredSession } from '../core/session-journal.js';
import { resumeKeyHash, type JournalLink } from './session-journal.js';
import { readTakeOver } from './takeover.js';

/** Longest a relay stream keeps what it was given (a recovery window of any length keeps at most this). */
const MAX_RELAY_KEEP_MS = 24 * 3600_000;

/** A session taken over from a dead node, ready to be restored on this one. */
export interface TakenOver {
  readonly room: Room;
  readonly restored: RestoredSession;
  /** The client went away before its session could be restored: it leaves the room. */
  abandon(): void;
}

/** Error text of a send or broadcast that needs Redis while it is unreachable. */
export const RELAY_UNAVAILABLE_TEXT = 'the cluster relay (Redis) is unreachable: the message was not sent to participants on other nodes; retry later.';

/** A {@link RoomDirectory} shared by every node on one Redis (server or cluster). */
export class RedisRoomDirectory implements RoomDirectory, ClusterLink {
  /** This node's id; new for every process (a restarted node is a new node). */
  readonly nodeId = randomUUID();
  readonly encoder = new FrameEncoder();
  private readonly options: ResolvedClusterOptions;
  readonly keys: ClusterKeys;
  private readonly commands: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly store: ClusterStore;
  private readonly rooms = new Map<string, ClusterRoom>();
  private readonly pending = new Set<Promise<unknown>>();
  /** Nodes whose lease ran out, until they are reaped. */
  private stale: ReadonlySet<string> = new Set();
  private heartbeat: NodeJS.Timeout | undefined;
  /** The second, strict reconciliation after Redis lost its data. */
  private settle: NodeJS.Timeout | undefined;
  private registered = false;
  /** Since when (ms) this node's heartbeats have succeeded without a break. */
  private beatingSince: number | undefined;
  private outage = false;
  private closing = false;
  private resyncing: Promise<void> | undefined;
  private resyncAgain = false;
  /** The last connection error, which says more than ioredis's "Connection is closed". */
  private lastError: Error | undefined;
  /** The URL other nodes reach this one at, once listening. */
  private advertised: string | undefined;
  /** Other nodes' direct channels of a room, subscribed to for sessions taken over from them. */
  private readonly adopted = new Map<string, Set<string>>();
  /** How long relays to resumable participants are kept (their recovery window). */
  private readonly relayKeepMs: number;

  constructor(
    options: string | RedisClusterOptions,
    private readonly limits: RoomDirectoryLimits & { readonly recoveryWindowMs?: number },
    private readonly logger: Logger,
  ) {
    this.relayKeepMs = Math.min(limits.recoveryWindowMs ?? MAX_RELAY_KEEP_MS, MAX_RELAY_KEEP_MS);
    this.options = resolveClusterOptions(options);
    this.keys = new ClusterKeys(this.options.keyPrefix);
    ({ commands: this.commands, subscriber: this.subscriber } = createRedisClients(this.options, this.nodeId));
    this.store = new ClusterStore(this.commands, this.keys, () => this.relays.flush());
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

  /** Whether both Redis clients are up. */
  get available(): boolean {
    return this.commands.status === 'ready' && this.subscriber.status === 'ready';
  }

  async open(): Promise<void> {
    try {
      await Promise.all([this.commands.connect(), this.subscriber.connect()]);
      await this.beat();
    } catch (error) {
      this.commands.disconnect();
      this.subscriber.disconnect();
      const why = (this.lastError ?? (error as Error)).message;
      const flag = this.options.cluster ? '--redis-cluster' : '--redis';
      throw new RoomStateError(RoomStateErrorCode.ClusterUnavailable, `cannot reach Redis at ${describeRedis(this.options)} (${why}); start it, or check ${flag}.`, { cause: error });
    }
    this.heartbeat = setInterval(() => this.run(this.tick(), 'heartbeat'), this.options.heartbeatIntervalMs);
    this.heartbeat.unref();
    this.logger.info({ node: this.nodeId }, 'joined the cluster');
  }

  /** Makes this node reachable at `url` for resumes that land on another node. */
  async advertise(url: string): Promise<void> {
    this.advertised = url;
    if (this.available) await this.store.advertise(this.nodeId, url).catch((error: unknown) => this.logger.warn({ err: error }, 'advertising the node URL failed; the next heartbeat retries'));
  }

  /** The URL this node advertised, once listening. */
  get advertisedUrl(): string | undefined {
    return this.advertised;
  }

  /** The URL node `node` advertised; undefined when unknown or Redis is away. */
  async nodeUrl(node: string): Promise<string | undefined> {
    if (!this.available) return undefined;
    return this.store.nodeUrl(node).catch(() => undefined);
  }

  async reserve(roomName: string, id: string): Promise<Room | AdmissionRefusal> {
    let room = this.rooms.get(roomName);
    if (room === undefined) {
      room = new ClusterRoom(roomName, this);
      this.rooms.set(roomName, room);
    }
    // Held before the first await, so a concurrent last leave does not free the room.
    room.ids.add(id);
    // During an outage the node admits on its own; reconciliation registers the member later.
    if (!this.available) return this.admitLocally(room, id);
    try {
      const refusal = await this.store.reserve(roomName, id, this.nodeId, this.limits);
      if (refusal !== undefined) {
        this.forget(room, id);
        return refusal === 'room full' ? ROOM_FULL : TOO_MANY_ROOMS;
      }
      room.ready ??= this.seed(room).catch((error: unknown) => {
        room.ready = undefined;
        throw error;
      });
      await room.ready;
      return room;
    } catch (error) {
      this.logger.warn({ err: error, room: roomName }, 'cluster admission failed; admitted on this node until Redis answers');
      if (this.registered) this.outage = true;
      return this.admitLocally(room, id);
    }
  }

  leave(room: Room, member: Pick<RoomMember, 'id'>): void {
    const own = this.rooms.get(room.name);
    if (own === undefined || own !== room || !own.ids.has(member.id)) return;
    this.forget(own, member.id);
    // While Redis is away, reconciliation drops what it still holds of the member.
    if (this.available) this.run(this.store.leave(room.name, member.id, this.nodeId), 'leave');
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
      return { node: this.nodeId, redis: 'ready', cluster: await this.store.stats() };
    } catch {
      return { node: this.nodeId, redis: 'unreachable' };
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.settle) clearTimeout(this.settle);
    await Promise.allSettled([...this.pending]);
    // Leaving for good: whatever is left of this node is removed at once, not at lease expiry.
    if (this.available) await this.store.reap([this.nodeId]).catch(() => undefined);
    await Promise.allSettled([this.commands.quit(), this.subscriber.quit()]);
    // quit() cannot reach a Redis that is away; this also stops reconnecting, so the process can exit.
    this.commands.disconnect();
    this.subscriber.disconnect();
    this.logger.info({ node: this.nodeId }, 'left the cluster');
  }

  assertRelay(): void {
    if (!this.available) throw new RequestError(RELAY_UNAVAILABLE_TEXT, ErrorCode.OperationFailed);
  }

  isStale(node: string): boolean {
    return this.stale.has(node);
  }

  directChannel(room: string, node: string): string {
    return this.keys.directChannel(room, node);
  }

  roomChannel(room: string): string {
    return this.keys.roomChannel(room);
  }

  relay(channel: string, header: Buffer, message: OutgoingMessage, stream?: string): Promise<number> {
    this.assertRelay();
    return this.relays.add(channel, withHeader(header, message.wire), stream);
  }

  relayStream(room: string): string {
    return this.keys.relayStream(room);
  }

  // The hot path: one publish per batch, its answer shared by the batch's relays.
  private readonly relays = new RelayBatcher((channel, payload, stream) =>
    (stream === undefined ? (this.commands.spublish(channel, payload) as Promise<number>) : this.store.relayStreamed(stream, channel, payload, this.relayKeepMs)).catch(this.relayFailed),
  );

  /** What the session journals need of this directory. */
  get journalLink(): JournalLink {
    const directory = this;
    return {
      nodeId: this.nodeId,
      keys: this.keys,
      logger: this.logger,
      room: (name) => this.rooms.get(name),
      script: (name, ...args) => this.store.journal(name, ...args),
      get available() {
        return directory.available;
      },
      sharded: this.options.cluster !== undefined,
    };
  }

  /** The node that holds the resumable session with resume key `key` in `roomName`, and its participant id, as journaled; undefined when none is (or Redis is away). */
  async sessionOwner(roomName: string, key: string): Promise<{ owner: string; id: string } | undefined> {
    if (!this.available) return undefined;
    return this.store.sessionOwner(roomName, resumeKeyHash(key)).catch(() => undefined);
  }

  /**
   * Takes over the journaled session with resume key `key` from node
   * `owner` (which could not be reached): this node becomes its owner (the
   * old one, should it be alive, is fenced off), subscribes to the old
   * node's direct channel of the room (relays in flight there reach the
   * session here), and reads what its client missed. Bus messages of the
   * room are held until the session is placed, so none passes it by.
   */
  async takeOver(roomName: string, key: string, journaled: { owner: string; id: string }, name: string, role: string, received: number): Promise<TakenOver | ResumeRefusal> {
    const { owner, id } = journaled;
    if (!this.available) return ResumeRefusal.Unknown;
    const hash = resumeKeyHash(key);
    let room = this.rooms.get(roomName);
    if (room === undefined) {
      room = new ClusterRoom(roomName, this);
      this.rooms.set(roomName, room);
    }
    const holder = `takeover:${hash}`;
    room.ids.add(holder);
    room.hold();
    const cluster = room;
    // Refused: what was kept goes on as it would have (the senders were told it was taken).
    const release = (): void => {
      for (const message of cluster.endCapture(id)) void Promise.resolve(cluster.enabledMember(id)?.deliver(message)).catch(() => undefined);
    };
    try {
      const theirs = this.keys.directChannel(roomName, owner);
      await this.subscriber.ssubscribe(this.keys.roomChannel(roomName), this.keys.directChannel(roomName, this.nodeId), theirs);
      let adopted = this.adopted.get(roomName);
      if (adopted === undefined) this.adopted.set(roomName, (adopted = new Set()));
      adopted.add(theirs);
      const roster = await this.store.roster(roomName);
      // From here on, what this node's members send it waits here: the takeover reads everything before.
      cluster.startCapture(id);
      const answer = await this.store.takeOver(roomName, hash, this.nodeId, received, name, role);
      const reading = readTakeOver(answer, received, false);
      if (typeof reading === 'string') {
        release();
        cluster.resume();
        return reading;
      }
      const enabled = roster[reading.id] !== undefined;
      const { replay } = enabled ? (readTakeOver(answer, received, true) as typeof reading) : reading;
      await this.store.reserve(roomName, reading.id, this.nodeId, NO_LIMITS);
      cluster.ids.add(reading.id);
      return {
        room: cluster,
        restored: {
          id: reading.id,
          attributes: reading.attributes,
          received,
          lastRequestId: reading.lastRequestId,
          enabled,
          replay,
          place: (member) => {
            for (const message of cluster.endCapture(id)) member.deliver(message);
            cluster.takeOver(member, enabled, reading.floor);
            cluster.reconcile(roster);
            cluster.ready ??= Promise.resolve();
            // The roster now names this node: others move it without a presence change.
            if (enabled) this.announce(roomName, 'enabled', memberRecord(this.nodeId, member), undefined);
          },
        },
        abandon: () => {
          cluster.endCapture(id);
          cluster.resume();
          this.leave(cluster, { id: reading.id });
        },
      };
    } catch (error) {
      release();
      cluster.resume();
      this.logger.warn({ err: error, room: roomName }, 'taking a session over failed; the client joins anew');
      return ResumeRefusal.Unknown;
    } finally {
      cluster.ids.delete(holder);
    }
  }

  private readonly relayFailed = (error: unknown): never => {
    this.logger.warn({ err: error }, 'cluster relay failed');
    throw new RequestError(RELAY_UNAVAILABLE_TEXT, ErrorCode.OperationFailed);
  };

  announce(room: string, change: PresenceChange, record: MemberRecord, announcement: OutgoingMessage | undefined): void {
    // While Redis is away the change stays local; reconciliation publishes the state that results.
    if (!this.available) return;
    this.run(this.store.announce(room, change, record, encodePresence({ c: change, ...record }, announcement?.wire)), 'presence');
  }

  private admitLocally(room: ClusterRoom, id: string): ClusterRoom {
    this.logger.debug({ room: room.name, participant: id }, 'admitted while Redis is unreachable');
    return room;
  }

  private forget(room: ClusterRoom, id: string): void {
    room.remove(id);
    if (room.ids.size > 0 || this.rooms.get(room.name) !== room) return;
    this.rooms.delete(room.name);
    const adopted = this.adopted.get(room.name) ?? [];
    this.adopted.delete(room.name);
    if (this.available) this.run(this.subscriber.sunsubscribe(this.keys.roomChannel(room.name), this.keys.directChannel(room.name, this.nodeId), ...adopted), 'unsubscribe');
  }

  /** Subscribes to a room's channels (one slot), then reads its roster into the replica. */
  private async seed(room: ClusterRoom, keep?: Parameters<ClusterRoom['reconcile']>[1]): Promise<void> {
    room.hold();
    try {
      await this.subscriber.ssubscribe(this.keys.roomChannel(room.name), this.keys.directChannel(room.name, this.nodeId));
      room.reconcile(await this.store.roster(room.name), keep);
    } catch (error) {
      room.resume();
      throw error;
    }
  }

  private onBusMessage(channel: string, payload: Buffer, relayId?: string): void {
    const message = decodeBus(payload);
    if (message === undefined) {
      this.logger.warn({ channel }, 'ignored a malformed cluster message');
      return;
    }
    if (message.kind === 'streamed') {
      this.onBusMessage(channel, message.inner, message.id);
      return;
    }
    if (message.kind === 'batch') {
      for (const part of message.messages) this.onBusMessage(channel, part, relayId);
      return;
    }
    const name = message.kind === 'direct' ? message.room : this.keys.roomOfChannel(channel);
    if (name !== undefined) this.rooms.get(name)?.receive(message, relayId);
  }

  private async beat(): Promise<void> {
    let fresh: boolean;
    try {
      fresh = await this.store.heartbeat(this.nodeId, this.options.leaseMs);
    } catch (error) {
      this.beatingSince = undefined;
      throw error;
    }
    this.beatingSince ??= Date.now();
    // Renewed with the lease, so it comes back after Redis lost its data.
    if (this.advertised !== undefined) await this.store.advertise(this.nodeId, this.advertised);
    // A lease that had to be created anew was lost (Redis restarted, or this node was reaped).
    if (fresh && this.registered) this.regained(true);
    this.registered = true;
  }

  private async tick(): Promise<void> {
    if (!this.available) return;
    // A reconciliation that Redis interrupted is retried; it renews the lease itself, last.
    if (this.outage) this.regained();
    if (this.resyncing) return;
    await this.beat();
    // Leases that ran out while this node could not renew its own may belong to nodes just as
    // cut off: reap only after a lease of steady heartbeats, when every live node renewed.
    if (Date.now() - (this.beatingSince ?? Infinity) < this.options.leaseMs) return;
    const expired = (await this.store.expired()).filter((node) => node !== this.nodeId);
    this.stale = new Set(expired);
    if (expired.length === 0) return;
    await this.store.reap(expired);
    this.logger.warn({ nodes: expired }, 'removed the participants of nodes whose lease expired');
  }

  private lost(): void {
    this.beatingSince = undefined;
    if (this.registered && !this.closing) this.outage = true;
  }

  private regained(leaseLost = false): void {
    if (leaseLost) this.outage = true;
    if (!this.outage || !this.available || this.closing) return;
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
   * After an outage: drop what Redis still holds of members that left
   * meanwhile, put back this node's members and announcements, reconcile
   * each room's replica against the roster, and renew the lease last (so a
   * node holding a lease has registered all its members). Members of nodes
   * without a lease are kept for now (Redis may have restarted empty and
   * their node not be back yet); a strict pass one lease later drops those
   * whose node never came back.
   */
  private async resync(): Promise<void> {
    let failed = false;
    try {
      const held = await this.store.nodeMembers(this.nodeId);
      await Promise.all(Object.entries(held).filter(([id, room]) => !this.rooms.get(room)?.ids.has(id)).map(([id, room]) => this.store.leave(room, id, this.nodeId)));
      for (const room of this.rooms.values()) {
        await Promise.all([...room.ids].map((id) => this.store.reserve(room.name, id, this.nodeId, NO_LIMITS)));
        for (const member of room.local.members.values()) this.announce(room.name, 'enabled', memberRecord(this.nodeId, member), undefined);
      }
      const leased = new Set(await this.store.leased());
      for (const room of this.rooms.values()) {
        try {
          await this.seed(room, (member) => !leased.has(member.record.n));
          await this.retractDisabled(room);
        } catch (error) {
          failed = true;
          this.logger.warn({ err: error, room: room.name }, 'cluster reconciliation of a room failed');
        }
      }
    } catch (error) {
      failed = true;
      this.logger.warn({ err: error }, 'cluster reconciliation interrupted');
    }
    await this.beat().catch(() => {
      failed = true;
    });
    if (failed) {
      // Redis is away again, or part of a Redis Cluster is: the next `ready` or heartbeat starts over.
      this.outage = true;
      return;
    }
    this.logger.info({ node: this.nodeId, rooms: this.rooms.size }, 'reconciled with the cluster after an outage');
    if (this.settle) clearTimeout(this.settle);
    this.settle = setTimeout(() => {
      this.settle = undefined;
      this.run(this.strictPass(), 'reconciliation');
    }, this.options.leaseMs);
    this.settle.unref();
  }

  /** Announces `disabled` for this node's members the roster still lists but that were disabled while Redis was away. */
  private async retractDisabled(room: ClusterRoom): Promise<void> {
    for (const json of Object.values(await this.store.roster(room.name))) {
      const record = JSON.parse(json) as MemberRecord;
      if (record.n === this.nodeId && !room.local.members.has(record.id)) this.announce(room.name, 'disabled', record, undefined);
    }
  }

  /** Reconciles every room strictly: whoever the roster does not list is gone. */
  private async strictPass(): Promise<void> {
    if (!this.available || this.outage) return;
    for (const room of this.rooms.values()) await this.seed(room);
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
