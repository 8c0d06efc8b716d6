/**
 * Per-identity limits: one token name may hold at most so many connections
 * in one room and be present in at most so many rooms, so that one
 * credential cannot fill a room or the server on its own.
 */
import type { AdmissionRefusal } from './room-directory.js';

/** The limits an {@link IdentityLimits} enforces. */
export interface IdentityCaps {
  /** Connections one identity may hold in one room. */
  readonly maxConnectionsPerIdentity: number;
  /** Rooms one identity may be connected to at once. */
  readonly maxRoomsPerIdentity: number;
}

/** Counts connections per identity and room; refuses what is over the caps. */
export class IdentityLimits {
  private readonly rooms = new Map<string, Map<string, number>>();

  constructor(private readonly caps: IdentityCaps) {}

  /** A refusal (HTTP 429) when `identity` may not add a connection to `roomName` now. */
  admission(identity: string, roomName: string): AdmissionRefusal | undefined {
    const rooms = this.rooms.get(identity);
    const here = rooms?.get(roomName) ?? 0;
    if (here >= this.caps.maxConnectionsPerIdentity) {
      return { status: 429, reason: 'too many connections for this identity in this room' };
    }
    if (here === 0 && (rooms?.size ?? 0) >= this.caps.maxRoomsPerIdentity) {
      return { status: 429, reason: 'too many rooms for this identity' };
    }
    return undefined;
  }

  /** Counts one connection of `identity` in `roomName`. */
  add(identity: string, roomName: string): void {
    let rooms = this.rooms.get(identity);
    if (rooms === undefined) this.rooms.set(identity, (rooms = new Map()));
    rooms.set(roomName, (rooms.get(roomName) ?? 0) + 1);
  }

  /** Uncounts one connection (the session ended). */
  remove(identity: string, roomName: string): void {
    const rooms = this.rooms.get(identity);
    const count = rooms?.get(roomName);
    if (rooms === undefined || count === undefined) return;
    if (count > 1) rooms.set(roomName, count - 1);
    else {
      rooms.delete(roomName);
      if (rooms.size === 0) this.rooms.delete(identity);
    }
  }
}
