/**
 * Helpers shared by the workloads: bounded concurrency, deadlines, joining
 * participants.
 */
import type { BenchDriver, BenchPeer } from '../drivers/types.js';

/** Runs `work` over `items` with at most `concurrency` in progress; keeps order. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return results;
}

/** Rejects with `message` if `promise` has not settled within `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (no result after ${ms} ms)`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms`. Used only to pace phases of a measurement, never to synchronise. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Connects and enables one participant. */
export async function join(driver: BenchDriver, room: string, name: string): Promise<BenchPeer> {
  const peer = await driver.connect(room, name);
  await peer.enable();
  return peer;
}

/**
 * Resolves once `condition()` holds, checking it whenever `subscribe`'s
 * callback fires; rejects after `ms`.
 */
export function until(condition: () => boolean, subscribe: (check: () => void) => () => void, ms: number, message: string): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const unsubscribe = subscribe(() => {
      if (!condition()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`${message} (not reached after ${ms} ms)`));
    }, ms);
  });
}

/** How often a long wait of a generator (joins, {@link presenceComplete}) reports its progress on stderr. */
export const PROGRESS_INTERVAL_MS = 60_000;

/**
 * Waits until every peer sees `size` others, by their presence callbacks
 * (which it takes over); fails at once when a watched peer's connection ends
 * (where its driver reports that), since that view can never complete.
 */
export function presenceComplete(peers: readonly BenchPeer[], size: number, ms: number): Promise<void> {
  const watched = peers.filter((p) => p.presenceSize() < size);
  let incomplete = watched.length;
  const lostView = (peer: BenchPeer, why: string): string => `the connection of a participant whose view held ${peer.presenceSize()} of ${size} ${why}`;
  const gone = watched.find((peer) => peer.closedWith !== undefined);
  let lost = gone === undefined ? undefined : lostView(gone, gone.closedWith!);
  // A big room takes minutes: say how far it got, so a run that times out says whether it was slow or stuck.
  const progress = setInterval(() => {
    let smallest = size;
    for (const peer of watched) smallest = Math.min(smallest, peer.presenceSize());
    console.error(`[generator ${process.pid}] ${watched.length - incomplete} of ${watched.length} views complete; the smallest holds ${smallest} of ${size}`);
  }, PROGRESS_INTERVAL_MS);
  progress.unref();
  return until(
    () => incomplete === 0 || lost !== undefined,
    (check) => {
      for (const peer of watched) {
        let done = false;
        peer.onPresence = () => {
          if (!done && peer.presenceSize() >= size) {
            done = true;
            incomplete--;
            check();
          }
        };
        peer.onClose = (why) => {
          lost ??= lostView(peer, why);
          check();
        };
      }
      return () => {
        for (const peer of watched) {
          peer.onPresence = undefined;
          peer.onClose = undefined;
        }
      };
    },
    ms,
    `presence views of ${peers.length} participants did not reach ${size}`,
  )
    .then(() => {
      if (lost !== undefined) throw new Error(`presence views of ${peers.length} participants cannot reach ${size}: ${lost}`);
    })
    .finally(() => clearInterval(progress));
}

/** Closes peers, ignoring errors, a bounded number at a time. */
export async function closeAll(peers: readonly BenchPeer[]): Promise<void> {
  await mapLimit(peers, 200, (peer) => peer.close().catch(() => undefined));
}
