/**
 * Whether a peer is reading, judged by what the kernel takes of its socket's
 * output rather than by the peer's answers: a peer far behind a burst (a
 * 10,000-member room's presence) answers a ping only once it has read
 * everything written before it, which can take longer than a heartbeat or a
 * slow-consumer timeout although it reads all along.
 *
 * A mark is taken only while the kernel refuses bytes (its buffers, and so
 * the peer's receive window, are full): from then on the kernel takes more
 * only as the peer reads, so a peer that reads nothing makes no progress
 * after its mark. With bytes the kernel could still take freely, the kernel's
 * progress says nothing about the peer, and no mark is taken.
 */
import type { Socket } from 'node:net';
import { kernelBytesTaken, kernelRefusedBytes } from '../ws-internals.js';

/**
 * The kernel's count of bytes taken from `socket` while it refuses more;
 * undefined when it takes everything it is given (or the counters cannot be
 * read, which turns the progress check off: peers are judged as before).
 */
export function drainMark(socket: Socket | undefined): number | undefined {
  if (socket === undefined || kernelRefusedBytes(socket) === 0) return undefined;
  return kernelBytesTaken(socket);
}

/** True when the kernel has taken more of `socket`'s output since {@link drainMark} gave `mark`: the peer has read since. */
export function drainedSince(socket: Socket | undefined, mark: number | undefined): boolean {
  if (socket === undefined || mark === undefined) return false;
  const taken = kernelBytesTaken(socket);
  return taken !== undefined && taken > mark;
}
