/**
 * The echo agent of `roomstate agent serve --echo`: each turn's text comes
 * back in three deltas, with a pause before each delta and before the end,
 * so that a steer or an interrupt sent on the first delta lands mid-turn.
 * Steers append their text; an interrupt cancels.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServedTurn } from '../../../agents/index.js';

/** `text` cut into (at most) three non-empty pieces, in order. */
export function threeParts(text: string): string[] {
  const size = Math.ceil(text.length / 3);
  if (size === 0) return [];
  return [text.slice(0, size), text.slice(size, 2 * size), text.slice(2 * size)].filter((part) => part !== '');
}

/** A turn handler that echoes, pausing `delayMs` before each delta and before the end. */
export function echoTurn(delayMs: number): (turn: ServedTurn) => Promise<void> {
  return async (turn) => {
    const parts = threeParts(turn.text);
    const pause = () => sleep(delayMs, undefined, { signal: turn.signal });
    try {
      for (;;) {
        await pause();
        for (const steer of turn.takeSteers()) parts.push(` ${steer.text}`);
        const next = parts.shift();
        if (next === undefined) return;
        turn.writeText(next);
      }
    } catch (error) {
      // Interrupted: the runtime ends the turn as cancelled.
      if (turn.signal.aborted) return;
      throw error;
    }
  };
}
