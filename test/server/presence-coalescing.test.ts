/**
 * Presence pushes are coalesced (issue 17, item 4): the attribute changes
 * one participant makes within a turn reach its session's actor as one
 * event and the room as one `participant.attributes` push per recipient,
 * with the merged keys; an enable, a disable or a message of its own after
 * them still goes out after that push. Fairness slicing is off
 * (`fairnessSliceMs: Infinity`) so that requests read together are
 * handled in one turn however slow the machine is.
 */
import { describe, expect, it } from 'vitest';
import { MessagingControlType } from '../../src/protocol/index.js';
import { noopObserver, type ServerObserver } from '../../src/server/core/observer.js';
import { asPush, isControl, type RawClient } from '../helpers/raw-client.js';
import { uniqueRoom, useServers } from '../helpers/server.js';

const servers = useServers();
const COUNT = 50;

/** An observer counting the `attributes.changed` events each session's actor took. */
function countingObserver(): { observer: ServerObserver; steps: Map<string, number> } {
  const steps = new Map<string, number>();
  const observer: ServerObserver = {
    ...noopObserver,
    sessionTransition(session, event) {
      if (event === 'attributes.changed') steps.set(session.id, (steps.get(session.id) ?? 0) + 1);
    },
  };
  return { observer, steps };
}

/** Sends what `body` writes in one socket write, so the server reads it at once. */
function together(client: RawClient, body: () => void): void {
  client.socket.cork();
  body();
  client.socket.uncork();
}

async function enabledPair(options: Parameters<typeof servers.start>[0]): Promise<{ alice: RawClient; bob: RawClient }> {
  const fx = await servers.start({ ...options, limits: { fairnessSliceMs: Infinity } });
  const room = uniqueRoom('coalesce');
  const bob = await fx.connect(room, 'bob');
  await bob.enable();
  const alice = await fx.connect(room, 'alice');
  await alice.enable();
  await bob.waitForPush(MessagingControlType.ParticipantEnabled);
  return { alice, bob };
}

const attributePushes = (client: RawClient) => client.received.items.filter((m) => isControl(m, MessagingControlType.ParticipantAttributes));

describe('presence coalescing', () => {
  it(`turns ${COUNT} set_attributes read together into one machine step and one push with the merged keys, before the sender's next message`, async () => {
    const { observer, steps } = countingObserver();
    const { alice, bob } = await enabledPair({ observer });
    let sent: Promise<unknown> = Promise.resolve();
    together(alice, () => {
      for (let i = 0; i < COUNT; i++) alice.setAttributes({ [`k${i % 10}`]: i, last: i });
      sent = alice.broadcast('after', { n: 1 });
    });
    await sent;
    const after = await bob.messages.waitFor((push) => push.type === 'after');
    const pushes = attributePushes(bob);
    expect(pushes).toHaveLength(1);
    const body = asPush(pushes[0])!.message as { attributes: Record<string, unknown> };
    expect(body.attributes).toEqual({ k0: 40, k1: 41, k2: 42, k3: 43, k4: 44, k5: 45, k6: 46, k7: 47, k8: 48, k9: 49, last: COUNT - 1 });
    expect(bob.received.items.indexOf(pushes[0])).toBeLessThan(bob.received.items.findIndex((m) => asPush(m)?.id === after.id));
    expect(steps.get(alice.participantId)).toBe(1);
    expect(bob.presence.get(alice.participantId)?.attributes.last).toBe(COUNT - 1);
  });

  it('announces changes made just before a disable ahead of participant.disabled', async () => {
    const { alice, bob } = await enabledPair({});
    let disabled: Promise<unknown> = Promise.resolve();
    together(alice, () => {
      alice.setAttributes({ status: 'away' });
      alice.setAttributes({ status: 'gone' });
      disabled = alice.disable();
    });
    await disabled;
    await bob.waitForPush(MessagingControlType.ParticipantDisabled);
    const all = bob.received.items;
    const pushes = attributePushes(bob);
    expect(pushes).toHaveLength(1);
    expect((asPush(pushes[0])!.message as { attributes: unknown }).attributes).toEqual({ status: 'gone' });
    expect(all.indexOf(pushes[0])).toBeLessThan(all.findIndex((m) => isControl(m, MessagingControlType.ParticipantDisabled)));
  });

  it('tells nobody of changes made while disabled, and the snapshot after enable carries them', async () => {
    const fx = await servers.start({ limits: { fairnessSliceMs: Infinity } });
    const room = uniqueRoom('coalesce');
    const bob = await fx.connect(room, 'bob');
    await bob.enable();
    const alice = await fx.connect(room, 'alice');
    let enabled: Promise<unknown> = Promise.resolve();
    together(alice, () => {
      alice.setAttributes({ status: 'here' });
      enabled = alice.invoke('enable', {});
    });
    await enabled;
    await bob.waitForPush(MessagingControlType.ParticipantEnabled);
    expect(attributePushes(bob)).toHaveLength(0);
    expect(bob.presence.get(alice.participantId)?.attributes.status).toBe('here');
  });
});
