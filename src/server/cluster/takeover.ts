/**
 * Reading the takeover script's answer (scripts.ts `TAKE_OVER`) into what a
 * restored session needs: its identity and counters, and what its client
 * missed, in the order its dead node would have sent it: the journal's
 * messages after the client's count, then the relays kept in the room's
 * stream after the session's cursor that were for it (direct messages to it,
 * and broadcasts from other nodes than its own).
 */
import { ResumeRefusal } from '../../protocol/resume.js';
import { OutgoingMessage } from '../core/outgoing-message.js';
import { decodeBus, type BusMessage } from './bus.js';

/** A takeover's answer, read. */
export interface TakeOverReading {
  readonly id: string;
  readonly previousOwner: string;
  readonly attributes: Record<string, unknown>;
  readonly lastRequestId: number;
  /** Journaled messages after the client's count, then the kept relays for it. */
  readonly replay: OutgoingMessage[];
  /** The relay stream's last entry id at the takeover: relays up to it were read here. */
  readonly floor: string;
}

const REFUSALS: Record<string, ResumeRefusal> = {
  u: ResumeRefusal.Unknown,
  x: ResumeRefusal.Expired,
  m: ResumeRefusal.Mismatch,
  b: ResumeRefusal.BadCount,
  g: ResumeRefusal.Gap,
};

type Entry = [Buffer, Buffer[]];

function leaves(message: BusMessage | undefined, out: BusMessage[]): void {
  if (message === undefined) return;
  if (message.kind === 'batch') for (const part of message.messages) leaves(decodeBus(part), out);
  else out.push(message);
}

/**
 * Reads the script's answer for a client that received `received` messages
 * (`enabled`: the session was messaging-enabled, so relays reached it); a
 * refusal when it had one.
 */
export function readTakeOver(answer: unknown, received: number, enabled: boolean): TakeOverReading | ResumeRefusal {
  const parts = answer as [Buffer, Buffer[], Entry[], Entry[], Buffer];
  const status = parts[0].toString();
  if (status !== 'ok') return REFUSALS[status] ?? ResumeRefusal.Unknown;
  const meta = new Map<string, string>();
  for (let i = 0; i + 1 < parts[1].length; i += 2) meta.set(parts[1][i]!.toString(), parts[1][i + 1]!.toString());
  const id = meta.get('i') ?? '';
  const previousOwner = meta.get('o') ?? '';
  const replay: OutgoingMessage[] = [];
  for (const [, fields] of parts[2]) {
    let sequence = Number(fields[1]!.toString());
    const batch = decodeBus(fields[3]!);
    if (batch?.kind !== 'batch') continue;
    for (const wire of batch.messages) {
      if (sequence > received) replay.push(new OutgoingMessage(wire));
      sequence++;
    }
  }
  for (const [, fields] of enabled ? parts[3] : []) {
    const found: BusMessage[] = [];
    leaves(decodeBus(fields[3]!), found);
    for (const message of found) {
      if ((message.kind === 'direct' && message.id === id) || (message.kind === 'broadcast' && message.node !== previousOwner)) replay.push(new OutgoingMessage(message.wire));
    }
  }
  return {
    id,
    previousOwner,
    attributes: JSON.parse(meta.get('a') ?? '{}') as Record<string, unknown>,
    lastRequestId: Number(meta.get('q') ?? '-1'),
    replay,
    floor: parts[4].toString(),
  };
}
