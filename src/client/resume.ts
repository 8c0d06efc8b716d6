/**
 * The client's side of resumable participants
 * (docs/PROTOCOL.md#extension-resumable-participants): one
 * {@link ResumeSession} lives as long as a `RoomClient` and outlives its
 * websockets. It asks for a resume key on the first connection and resumes
 * with it after a drop; it counts the messages received after `connected`
 * (the server numbers the same ones), numbers requests upwards across
 * sockets, and keeps the requests not yet answered: after a resume those the
 * server never read are written again with their ids, and the others are
 * answered in the replay, so nothing is lost or done twice. When the resume
 * is refused, the unanswered requests fail with {@link LinkLostError} (the
 * outbox sends them again, as without resume) and the client is a new
 * participant.
 *
 * @packageDocumentation
 */
import { Subject, type Observable } from 'rxjs';
import { resumeQuery, type ResumeAnswer, type ResumeRefusal } from '../protocol/resume.js';
import { LinkLostError, RequestTracker } from './requests.js';

/**
 * What a reconnect came to: `resumed` as the same participant with the
 * `recovered` messages it missed, or not, and why (`unsupported` when the
 * server does not offer the extension).
 */
export interface ResumeOutcome {
  readonly resumed: boolean;
  /** Messages the server replayed (sent while this client was away, or lost with the old socket). */
  readonly recovered: number;
  /** Why the resume was refused; absent when resumed. */
  readonly reason?: ResumeRefusal | 'unsupported';
}

/** A request written and not yet answered, kept to be written again after a resume. */
interface Written {
  readonly type: string;
  readonly data: Uint8Array;
}

/** Rewrites a request on the new socket, with its id. */
export type Rewrite = (id: number, type: string, data: Uint8Array) => void;

/** The resume state of one client across its websockets. */
export class ResumeSession {
  /** Message ids and pending requests of the whole session (not per socket). */
  readonly tracker = new RequestTracker();
  /** Messages received after `connected`, over every socket of the session. */
  received = 0;
  private key: string | undefined;
  private connections = 0;
  private readonly written = new Map<number, Written>();
  private readonly outcomes = new Subject<ResumeOutcome>();
  private last: ResumeOutcome | undefined;
  /** Whether the socket whose `room_ready` came last resumed the session. */
  resumedNow = false;

  /** Each reconnect's outcome (not the first connection's). Hot. */
  get outcome$(): Observable<ResumeOutcome> {
    return this.outcomes.asObservable();
  }

  /** The last reconnect's outcome; undefined before the first reconnect. */
  get lastOutcome(): ResumeOutcome | undefined {
    return this.last;
  }

  /** `url` with the query that asks for a key, or resumes with the one held. */
  url(url: string): string {
    const query = new URLSearchParams(resumeQuery(this.key === undefined ? { kind: 'request' } : { kind: 'resume', key: this.key, received: this.received }));
    return `${url}${url.includes('?') ? '&' : '?'}${query.toString()}`;
  }

  /** Request `id` was written: kept until answered. */
  wrote(id: number, type: string, data: Uint8Array): void {
    this.written.set(id, { type, data });
  }

  /** Request `id` was answered. */
  answered(id: number): void {
    this.written.delete(id);
  }

  /**
   * `room_ready` of a new socket carried `answer` (undefined: the server
   * does not offer the extension). Resumed: the requests the server never
   * read are rewritten through `rewrite`, in order. Not: the session starts
   * over and the unanswered requests fail with {@link LinkLostError}.
   */
  adopt(answer: ResumeAnswer | undefined, rewrite: Rewrite): void {
    const reconnect = this.connections++ > 0;
    let outcome: ResumeOutcome;
    if (answer?.resumed === true) {
      const last = answer.lastRequestId ?? -1;
      for (const id of [...this.written.keys()].sort((a, b) => a - b)) {
        if (id > last) rewrite(id, this.written.get(id)!.type, this.written.get(id)!.data);
      }
      outcome = { resumed: true, recovered: answer.replayed ?? 0 };
    } else {
      this.received = 0;
      this.dropPending();
      outcome = { resumed: false, recovered: 0, reason: answer === undefined ? 'unsupported' : ((answer.reason as ResumeRefusal | undefined) ?? 'unsupported') };
    }
    this.key = answer?.key;
    this.resumedNow = outcome.resumed;
    if (!reconnect) return;
    this.last = outcome;
    this.outcomes.next(outcome);
  }

  /** The connection ended for good: nothing will answer what is pending. */
  end(): void {
    this.key = undefined;
    this.dropPending();
    this.outcomes.complete();
  }

  private dropPending(): void {
    this.written.clear();
    if (this.tracker.size > 0) this.tracker.failAll(new LinkLostError());
  }
}
