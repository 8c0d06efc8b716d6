/**
 * The node's resumable sessions by key: which session a resume key names,
 * the recovery window of each detached one (on the core's injected timers),
 * and why a recently ended one cannot be resumed any more, so a late
 * client is told the reason rather than "unknown".
 */
import { ResumeRefusal } from '../../protocol/resume.js';
import type { Timers } from './token-bucket.js';

/**
 * A new resume key: a bearer secret (random, whatever ids the core makes),
 * prefixed in a cluster with the node that holds the session, so another
 * node can forward a resume to it.
 */
export function newResumeKey(node: string | undefined): string {
  return node === undefined ? crypto.randomUUID() : `${node}.${crypto.randomUUID()}`;
}

/** The node a resume key names; undefined for a key of a node outside a cluster. */
export function nodeOfResumeKey(key: string): string | undefined {
  const dot = key.indexOf('.');
  return dot <= 0 ? undefined : key.slice(0, dot);
}

/** Ended keys remembered, for their refusal reason (oldest forgotten first). */
export const REMEMBERED_ENDINGS = 4096;

/** What the registry needs of a session. */
export interface ResumableSession {
  /** Ends the detached session for `reason` (its window passed): it leaves the room as a closed one does. */
  expire(reason: ResumeRefusal): void;
}

/** Resume keys of one node. */
export class ResumableSessions<S extends ResumableSession> {
  private readonly sessions = new Map<string, S>();
  private readonly windows = new Map<string, unknown>();
  private readonly endings = new Map<string, ResumeRefusal>();

  constructor(
    private readonly timers: Timers,
    private readonly windowMs: () => number,
  ) {}

  /** Registers `session` under `key`. */
  add(key: string, session: S): void {
    this.sessions.set(key, session);
  }

  /** The session `key` names, or why there is none. */
  find(key: string): S | ResumeRefusal {
    return this.sessions.get(key) ?? this.endings.get(key) ?? ResumeRefusal.Unknown;
  }

  /** Session `key` lost its connection: it ends when the recovery window passes without a resume. */
  detached(key: string): void {
    const session = this.sessions.get(key);
    if (session === undefined || this.windows.has(key)) return;
    const windowMs = this.windowMs();
    if (!Number.isFinite(windowMs)) return;
    this.windows.set(
      key,
      this.timers.setTimeout(() => {
        this.windows.delete(key);
        session.expire(ResumeRefusal.Expired);
      }, windowMs),
    );
  }

  /** Session `key` has a connection again. */
  attached(key: string): void {
    const timer = this.windows.get(key);
    if (timer === undefined) return;
    this.timers.clearTimeout(timer);
    this.windows.delete(key);
  }

  /** Ends every session still registered (shutdown: the held messages die with the process). */
  endAll(): void {
    for (const session of [...this.sessions.values()]) session.expire(ResumeRefusal.Unknown);
  }

  /** Session `key` ended (`reason` when a resume could have followed, for the late client). */
  ended(key: string, reason: ResumeRefusal = ResumeRefusal.Unknown): void {
    this.attached(key);
    if (!this.sessions.delete(key)) return;
    this.endings.set(key, reason);
    if (this.endings.size > REMEMBERED_ENDINGS) this.endings.delete(this.endings.keys().next().value!);
  }
}
