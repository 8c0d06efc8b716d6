/**
 * What a soak is asked to do, what it recorded, and how it is judged. The failures (each fails the
 * run) are those of the cluster's guarantees:
 *
 * - a send answered OK whose message never arrived, unless its recipient's
 *   connection died after it was sent (and within 3 s): those were in flight
 *   in the killed node, and are counted apart;
 * - a broadcast answered OK that a participant missed although it was known
 *   cluster-wide before the broadcast (joined 1.5 s earlier, or 5 s after
 *   Redis returned if it joined during the outage) and stayed 2 s after;
 * - anything delivered twice to one participant;
 * - a killed node's participant still listed by a client of another node
 *   later than lease + 3 s after the kill;
 * - presence not agreeing everywhere 5 s after Redis returned;
 * - a node that exited on its own; a send never answered;
 * - RSS growth of the node that is never killed beyond 64 MiB.
 */

/** What a soak run does (kept in its record, so it is defined here). */
export interface SoakOptions {
  durationMs: number;
  /** A node is SIGKILLed this often (nodes 1 and 2 in turn)... */
  killEveryMs: number;
  /** ...and started again on its port this much later. */
  nodeDownMs: number;
  /** Redis is stopped once, for this long, halfway between two kills. */
  redisOutageMs: number;
  rooms: number;
  seatsPerRoom: number;
  /** Mean pause between two messages of one client. */
  sendIntervalMs: number;
  /** `--redis-lease` of the nodes. */
  leaseMs: number;
  log: (line: string) => void;
}

/** One send or broadcast. */
export interface SendRecord {
  readonly kind: 'direct' | 'broadcast';
  readonly from: string;
  readonly room: string;
  readonly to: string | undefined;
  readonly startedAt: number;
  resolvedAt: number | undefined;
  error: string | undefined;
}

/** Everything a soak run saw (times in ms from its start). */
export interface SoakRecord {
  readonly options: Omit<SoakOptions, 'log'>;
  readonly participants: Map<string, { room: string; node: number; joinedAt: number; closedAt: number | undefined }>;
  readonly sends: Map<string, SendRecord>;
  /** Message ids each participant received. */
  readonly received: Map<string, Set<string>>;
  duplicates: number;
  readonly kills: { node: number; at: number; participants: number; lastSeenAt: number | undefined }[];
  redisOutage: { startedAt: number; endedAt: number; agreedAt: number | undefined } | undefined;
  readonly exits: string[];
  readonly rss: { at: number; mib: number }[];
  endedAt?: number;
}

/** The figures of a run and what failed. */
export interface SoakReport {
  readonly lines: string[];
  readonly failures: string[];
}

const RSS_GROWTH_LIMIT_MIB = 64;

function count<T>(items: Iterable<T>, key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].map(([name, n]) => `${n} × ${name}`).join('; ') || 'none';
}

/** Where and when a send and its two ends were, for a loss to be looked into. */
function describeSend(record: SoakRecord, send: SendRecord): string {
  const at = (t: number | undefined) => (t === undefined ? 'open' : `${(t / 1000).toFixed(2)} s`);
  const end = (id: string | undefined) => {
    const p = id === undefined ? undefined : record.participants.get(id);
    return p === undefined ? 'unknown' : `node ${p.node} (joined ${at(p.joinedAt)}, closed ${at(p.closedAt)})`;
  };
  const target = send.to === undefined ? undefined : record.participants.get(send.to);
  // The events a loss may be owed to: the next kill of the recipient's node, and the Redis outage.
  const kill = target === undefined ? undefined : record.kills.find((k) => k.node === target.node && k.at >= send.startedAt);
  const outage = record.redisOutage;
  const context = [
    kill === undefined ? undefined : `its node killed ${at(kill.at)}`,
    outage === undefined ? undefined : `Redis away ${at(outage.startedAt)}–${at(outage.endedAt)}`,
  ].filter((part) => part !== undefined);
  return `from ${end(send.from)} to ${end(send.to)}, sent ${at(send.startedAt)}, answered ${at(send.resolvedAt)}${context.length > 0 ? ` (${context.join(', ')})` : ''}`;
}

/** Judges a run. */
export function judge(record: SoakRecord): SoakReport {
  const { options } = record;
  const failures: string[] = [];
  const lines: string[] = [];
  const sends = [...record.sends];
  const directs = sends.filter(([, send]) => send.kind === 'direct');
  const broadcasts = sends.filter(([, send]) => send.kind === 'broadcast');
  const got = (participant: string | undefined, id: string) => participant !== undefined && record.received.get(participant)?.has(id) === true;

  let lost = 0;
  let inFlight = 0;
  const lostExamples: string[] = [];
  for (const [id, send] of directs) {
    if (send.resolvedAt === undefined || got(send.to, id)) continue;
    const closedAt = record.participants.get(send.to!)?.closedAt;
    if (closedAt !== undefined && send.startedAt <= closedAt && closedAt - send.startedAt < 3_000) inFlight++;
    else {
      lost++;
      if (lostExamples.length < 5) lostExamples.push(`  lost ${id}: ${describeSend(record, send)}`);
    }
  }
  const unanswered = sends.filter(([, send]) => send.resolvedAt === undefined && send.error === undefined).length;
  const directOk = directs.filter(([, send]) => send.resolvedAt !== undefined).length;
  lines.push(`direct messages: ${directs.length} sent, ${directOk} answered OK, ${lost} answered OK but never arrived, ${inFlight} in flight to a connection its node's kill ended`);
  lines.push(`  refused: ${count(directs.filter(([, send]) => send.error !== undefined), ([, send]) => send.error!)}`);
  lines.push(...lostExamples);

  const outage = record.redisOutage;
  let missed = 0;
  let expectedDeliveries = 0;
  for (const [id, send] of broadcasts) {
    if (send.resolvedAt === undefined) continue;
    for (const [participant, seen] of record.participants) {
      if (participant === send.from || seen.room !== send.room) continue;
      const duringOutage = outage !== undefined && seen.joinedAt >= outage.startedAt && seen.joinedAt <= outage.endedAt;
      const knownSince = duringOutage ? outage.endedAt + 5_000 : seen.joinedAt + 1_500;
      if (knownSince > send.startedAt) continue;
      if (seen.closedAt !== undefined && seen.closedAt < send.resolvedAt + 2_000) continue;
      expectedDeliveries++;
      if (!got(participant, id)) missed++;
    }
  }
  const broadcastOk = broadcasts.filter(([, send]) => send.resolvedAt !== undefined).length;
  lines.push(`broadcasts: ${broadcasts.length} sent, ${broadcastOk} answered OK, ${expectedDeliveries} deliveries due, ${missed} missed`);
  lines.push(`  refused: ${count(broadcasts.filter(([, send]) => send.error !== undefined), ([, send]) => send.error!)}`);
  lines.push(`delivered twice: ${record.duplicates}; never answered: ${unanswered}`);
  if (lost > 0) failures.push(`${lost} direct messages were answered OK but never arrived`);
  if (missed > 0) failures.push(`${missed} broadcast deliveries were missed`);
  if (record.duplicates > 0) failures.push(`${record.duplicates} messages were delivered twice`);
  if (unanswered > 0) failures.push(`${unanswered} sends were never answered`);

  const limit = options.leaseMs + 3_000;
  for (const kill of record.kills) {
    const clearedAfter = kill.lastSeenAt === undefined ? 0 : kill.lastSeenAt - kill.at;
    lines.push(`kill of node ${kill.node} at ${(kill.at / 1000).toFixed(1)} s (${kill.participants} participants): gone from every other node's clients after ${(clearedAfter / 1000).toFixed(1)} s`);
    if (clearedAfter > limit) failures.push(`a killed node's participants were still listed ${(clearedAfter / 1000).toFixed(1)} s after the kill (limit ${limit / 1000} s)`);
  }
  if (outage !== undefined) {
    const agreedAfter = outage.agreedAt === undefined ? Infinity : outage.agreedAt - outage.endedAt;
    lines.push(`Redis stopped at ${(outage.startedAt / 1000).toFixed(1)} s for ${((outage.endedAt - outage.startedAt) / 1000).toFixed(1)} s: presence agreed everywhere ${(agreedAfter / 1000).toFixed(1)} s after it returned`);
    if (!(agreedAfter <= 5_000)) failures.push(`presence did not agree within 5 s of Redis's return (${agreedAfter} ms)`);
  }
  for (const exit of record.exits) failures.push(exit);

  const settled = record.rss.filter((sample) => sample.at >= Math.min(60_000, options.durationMs / 4));
  if (settled.length >= 2) {
    const growth = settled.at(-1)!.mib - settled[0].mib;
    const peak = Math.max(...settled.map((sample) => sample.mib));
    lines.push(`node 0 (never killed) RSS: ${settled[0].mib.toFixed(0)} MiB after warm-up, ${settled.at(-1)!.mib.toFixed(0)} MiB at the end (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MiB, peak ${peak.toFixed(0)} MiB)`);
    if (growth > RSS_GROWTH_LIMIT_MIB) failures.push(`node 0's RSS grew by ${growth.toFixed(1)} MiB (limit ${RSS_GROWTH_LIMIT_MIB} MiB)`);
  }
  lines.push(`participants seated: ${record.participants.size} (${options.rooms} rooms × ${options.seatsPerRoom} seats, official and roomstate clients in turn)`);
  return { lines, failures };
}
