/**
 * Write batching for `ws` sockets: the first send of a tick corks the
 * underlying TCP socket and a `process.nextTick` uncorks it, so all frames of
 * a tick leave in one `writev` instead of one write syscall each. roomstate's
 * server does the same (src/server/ws-binding.ts); the raw relay and the lean
 * client use it too, so comparisons measure protocol cost, not syscall count.
 */
import type WebSocket from 'ws';
import { tcpSocketOf } from '../../src/ws-internals.js';

/** Sends frames on `ws`, batching all sends of one tick into one socket write. */
export function corkedSender(ws: WebSocket): (frame: Uint8Array) => void {
  let corked = false;
  const uncork = (): void => {
    corked = false;
    // ws keeps its net.Socket private; corking it is the only way to batch frames.
    tcpSocketOf(ws)?.uncork();
  };
  return (frame) => {
    if (!corked) {
      const socket = tcpSocketOf(ws);
      if (socket) {
        corked = true;
        socket.cork();
        process.nextTick(uncork);
      }
    }
    ws.send(frame);
  };
}
