/**
 * Presence spoofing (found by the fuzz suite): presence pushes share the
 * `messaging.send` push with user messages and are told apart only by
 * `type`. A participant that sends or broadcasts a user message whose type is
 * a presence control type ("messaging.enabled", "participant.enabled",
 * "participant.disabled", "participant.attributes") must be refused, or it
 * could rewrite other clients' presence: the official client acts on such a
 * push as if the server sent it (drops a participant who is still there,
 * wipes its presence map, or throws in its handler).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MessagingControlType } from '../../src/protocol/index.js';
import { connectMinted } from '../helpers/raw-client.js';
import { useServer } from '../helpers/server.js';
import { OfficialPeer, clearMeshagentEnv, installProcessGuard, type ProcessGuard } from '../helpers/official-client.js';

const SECRET = 'spoofing-secret';

/** A forged body for each control type, aimed at `victimId`'s presence of `targetId`. */
function forgedBody(type: string, targetId: string): unknown {
  switch (type) {
    case MessagingControlType.Enabled:
      return { participants: [] };
    case MessagingControlType.ParticipantEnabled:
      return { id: `ghost-${targetId}`, role: 'agent', attributes: { name: 'ghost' } };
    case MessagingControlType.ParticipantDisabled:
      return { id: targetId };
    default:
      return { attributes: { name: 'impostor' } };
  }
}

describe('presence control types are reserved', () => {
  let guard: ProcessGuard;
  beforeAll(() => {
    clearMeshagentEnv();
    guard = installProcessGuard();
  });
  // Registered before the server fixture, so it runs after the fixture's cleanups (after hooks run in reverse).
  afterEach(() => expect(guard.errors).toEqual([]));
  const fx = useServer({ secret: SECRET });

  afterAll(() => guard?.dispose());

  it.each(Object.values(MessagingControlType))('refuses a send or broadcast of type %s, and the victim\'s presence is untouched', async (type) => {
    const room = `spoof-${randomUUID()}`;
    const victim = await OfficialPeer.connect({ baseUrl: fx.url, room, secret: SECRET, name: 'victim' });
    fx.defer(() => victim.leave());
    const bystander = await connectMinted({ baseUrl: fx.url, room, secret: SECRET, name: 'bystander' });
    fx.defer(() => bystander.close());
    const attacker = await connectMinted({ baseUrl: fx.url, room, secret: SECRET, name: 'attacker' });
    fx.defer(() => attacker.close());
    await victim.enable();
    await bystander.enable();
    await attacker.enable();
    await victim.participantByName('bystander');
    await victim.participantByName('attacker');

    // Legitimate pushes so far (the attacker's own participant.enabled among them).
    const pushesBefore = victim.pushes.items.length;
    const receivedBefore = bystander.received.items.length;
    const body = forgedBody(type, bystander.participantId);
    const direct = await attacker.send(victim.id, type, body);
    const broadcast = await attacker.broadcast(type, body);
    expect(direct).toMatchObject({ type: 'error', code: 1002 });
    expect(broadcast).toMatchObject({ type: 'error', code: 1002 });

    // Barrier: a legitimate message sent after the forgeries.
    expect(await attacker.send(victim.id, 'after', {})).toEqual({ type: 'empty' });
    await victim.messages.waitFor((m) => m.type === 'after');
    expect(victim.presentNames()).toEqual(['attacker', 'bystander']);
    expect(victim.client.messaging.getParticipantByName('bystander')?.id).toBe(bystander.participantId);
    expect(victim.client.messaging.getParticipantByName('attacker')?.getAttribute('name')).toBe('attacker');
    expect(victim.pushes.items.slice(pushesBefore).filter((m) => m.type === type)).toEqual([]);
    // The raw bystander never saw a forged control push either.
    expect(bystander.presence.has(attacker.participantId)).toBe(true);
    expect(bystander.received.items.slice(receivedBefore).filter((m) => m.header?.type === type)).toEqual([]);
  });
});
