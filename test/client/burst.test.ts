/**
 * A burst from one RoomClient over a real socket: 5,000 sends made at once
 * all arrive, in order, while the client never has more than `sendWindow`
 * of them written and unanswered (the rest wait in its outbox), so what a
 * burst puts in the socket's buffer stays bounded. The server's rate limit
 * is raised here: pacing a burst under a default server's limit is the
 * server's backpressure (tested with the server).
 */
import { describe, expect, it } from 'vitest';
import { uniqueRoom } from '../helpers/server.js';
import { record, useClientRoom } from './helpers/clients.js';

const BURST = 5000;
const WINDOW = 64;

const room$ = useClientRoom({ limits: { messagesPerSecond: 1_000_000 } });

describe('a burst of sends', () => {
  it(`delivers ${BURST} sends in order with at most sendWindow unanswered`, async () => {
    const { pool } = room$;
    const room = uniqueRoom();
    const receiver = await pool.enabled(room, 'receiver');
    const sender = await pool.enabled(room, 'sender', { sendWindow: WINDOW });
    const received = record(receiver.messaging.messages$);
    let most = 0;
    const to = receiver.localParticipant.id;
    const sends: Promise<void>[] = [];
    for (let n = 0; n < BURST; n++) {
      sends.push(
        sender.messaging.sendMessage({ to, type: 'burst', message: { n } }).then(() => {
          most = Math.max(most, sender.messaging.sendsInFlight);
        }),
      );
    }
    expect(sender.messaging.sendsInFlight).toBe(WINDOW);
    expect(sender.messaging.sendsQueued).toBe(BURST - WINDOW);
    await Promise.all(sends);
    await received.waitForCount(() => true, BURST, { timeoutMs: 120_000 });
    expect(received.items.map((m) => (m.message as { n: number }).n)).toEqual(Array.from({ length: BURST }, (_, n) => n));
    expect(most).toBeLessThanOrEqual(WINDOW);
    expect(sender.messaging.sendsInFlight + sender.messaging.sendsQueued).toBe(0);
  }, 180_000);
});
