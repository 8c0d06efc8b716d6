/**
 * Resumable sessions' journals on Redis (docs/cluster.md#resuming-after-a-node-died).
 * Per session, in the room's hash slot: a hash of what it needs to resume
 * (owner node, participant id, name, role, attributes, sent count, last
 * request id, relay cursor), keyed by the SHA-256 of its resume key (the
 * key itself, a bearer secret, is never stored), and a stream of the
 * messages sent to it, one entry per event-loop turn whose id is the turn's
 * last sequence number, trimmed (`XTRIM MINID`) as its client acknowledges.
 * Both expire with the recovery window. One script call per session per
 * turn carries the turn's messages and counters; the session writes a
 * message to its client only once the call is answered, so whatever a
 * client read is in Redis.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { OutgoingMessage } from '../core/outgoing-message.js';
import type { JournaledSession, SessionJournal, SessionJournals } from '../core/session-journal.js';
import { encodeBatch, type ClusterKeys } from './bus.js';
import type { ClusterRoom } from './cluster-room.js';

/** The SHA-256 of a resume key, hex: the name of its session's keys. */
export function resumeKeyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** What the journals need of the cluster directory. */
export interface JournalLink {
  readonly nodeId: string;
  readonly keys: ClusterKeys;
  /** Whether Redis answers now. */
  readonly available: boolean;
  /** Whether Redis is a Redis Cluster: one script then touches one room's keys only (one slot). */
  readonly sharded: boolean;
  /** This node's replica of `room` (for its relay cursor). */
  room(room: string): ClusterRoom | undefined;
  /** Runs a journal script; resolves to its answer. */
  script(name: 'rsJournalOpen' | 'rsJournal' | 'rsJournalEnd', ...args: Array<string | number | Buffer>): Promise<unknown>;
  readonly logger: Logger;
}

/** Journals of one node's resumable sessions. */
export class RedisSessionJournals implements SessionJournals {
  /** Journals with something to write this turn: one script call for all (one Redis server) or per room (one slot of a Redis Cluster). */
  private readonly due = new Map<string, RedisSessionJournal[]>();
  private scheduled = false;

  constructor(
    private readonly link: JournalLink,
    /** How long a session's keys outlive its last write (the recovery window and a heartbeat). */
    private readonly ttlMs: number,
  ) {}

  open(key: string, room: string, session: JournaledSession, restored: boolean): SessionJournal {
    return new RedisSessionJournal(this.link, room, resumeKeyHash(key), session, restored, this.ttlMs, this.schedule);
  }

  private readonly schedule = (journal: RedisSessionJournal): void => {
    const group = this.link.sharded ? journal.roomName : '';
    let list = this.due.get(group);
    if (list === undefined) this.due.set(group, (list = []));
    list.push(journal);
    if (this.scheduled) return;
    this.scheduled = true;
    // After the turn's relays (process.nextTick): a send a session made leaves before its request id is recorded.
    setImmediate(this.flush);
  };

  private readonly flush = (): void => {
    this.scheduled = false;
    const { link } = this;
    for (const [group, journals] of this.due) {
      this.due.delete(group);
      const writes = journals.map((journal) => journal.take()).filter((write) => write !== undefined);
      if (writes.length === 0) continue;
      if (!link.available) {
        // Unreachable: the sessions keep going, resumable on this node only.
        for (const write of writes) write.done(1);
        continue;
      }
      const keys = writes.flatMap((write) => write.keys);
      const args = writes.flatMap((write) => write.args);
      link.script('rsJournal', keys.length, ...keys, link.nodeId, this.ttlMs, ...args).then(
        (results) => writes.forEach((write, i) => write.done((results as number[])[i] ?? -1)),
        (error: unknown) => {
          link.logger.warn({ err: error }, 'journaling resumable sessions failed; they can resume on this node only until the next write');
          for (const write of writes) write.done(-1);
        },
      );
    }
  };
}

/** One session's part of a turn's journal write. */
interface JournalWrite {
  readonly keys: readonly string[];
  readonly args: ReadonlyArray<string | number | Buffer>;
  /** Handles the script's result for this session (1 written, 0 taken over, -1 not journaled). */
  done(result: number): void;
}

class RedisSessionJournal implements SessionJournal {
  private readonly meta: string;
  private readonly journal: string;
  private frames: Buffer[] = [];
  private first = 0;
  private last = 0;
  private acknowledged = 0;
  private attributes: Readonly<Record<string, unknown>> | undefined;
  private scheduled = false;
  private ended = false;

  constructor(
    private readonly link: JournalLink,
    readonly roomName: string,
    hash: string,
    private readonly session: JournaledSession,
    restored: boolean,
    ttlMs: number,
    private readonly scheduleWrite: (journal: RedisSessionJournal) => void,
  ) {
    this.meta = link.keys.sessionMeta(roomName, hash);
    this.journal = link.keys.sessionJournal(roomName, hash);
    this.attributes = session.attributes;
    // The first write follows on the same connection, so Redis has the hash by then.
    if (!restored && link.available) {
      link
        .script('rsJournalOpen', this.meta, this.journal, link.keys.relayStream(roomName), link.nodeId, session.id, session.name, session.role, JSON.stringify(session.attributes), ttlMs)
        .catch((error: unknown) => link.logger.warn({ err: error, participant: session.id }, 'recording a resumable session in Redis failed; it can resume on this node only'));
    }
  }

  record(sequence: number, message: OutgoingMessage): void {
    if (this.frames.length === 0) this.first = sequence;
    this.last = sequence;
    this.frames.push(message.wire);
    this.schedule();
  }

  acknowledge(received: number): void {
    if (received <= this.acknowledged) return;
    this.acknowledged = received;
    this.schedule();
  }

  end(): void {
    this.ended = true;
    if (this.link.available) this.link.script('rsJournalEnd', this.meta, this.journal, this.link.nodeId).catch(() => undefined);
  }

  private schedule(): void {
    if (this.scheduled || this.ended) return;
    this.scheduled = true;
    this.scheduleWrite(this);
  }

  /** This turn's write, or undefined when there is none (the session ended). */
  take(): JournalWrite | undefined {
    this.scheduled = false;
    const frames = this.frames;
    const last = frames.length === 0 ? 0 : this.last;
    this.frames = [];
    if (this.ended) return undefined;
    const { session } = this;
    const attributes = session.attributes === this.attributes ? '' : JSON.stringify(session.attributes);
    this.attributes = session.attributes;
    return {
      keys: [this.meta, this.journal],
      args: [this.first, last, frames.length === 0 ? '' : encodeBatch(frames), session.lastRequestId, this.link.room(this.roomName)?.relayCursor ?? '', this.acknowledged, attributes],
      done: (result) => {
        if (result === 0) {
          this.ended = true;
          session.takenOver();
          return;
        }
        if (last > 0) session.journaled(last);
      },
    };
  }
}
