/**
 * The server observer: what real clients do over real sockets reaches every
 * combined observer, in the order it happened.
 */
import { describe, expect, it } from 'vitest';
import { combineObservers, requestKind, type ServerObserver } from '../../src/server/index.js';
import { expectUpgradeRefused } from '../helpers/raw-client.js';
import { uniqueRoom, useServers } from '../helpers/server.js';

type Event = [keyof ServerObserver, ...unknown[]];

/** An observer that records every call. */
function recorder(events: Event[]): ServerObserver {
  return new Proxy({} as ServerObserver, {
    get: (_target, name) => (...args: unknown[]) => events.push([name as keyof ServerObserver, ...args]),
  });
}

const servers = useServers();

describe('ServerObserver', () => {
  it('reports joins, requests, deliveries, errors and leaves to every combined observer', async () => {
    const first: Event[] = [];
    const second: Event[] = [];
    const partial: string[] = [];
    const fx = await servers.start({ observer: combineObservers(recorder(first), { errorResponse: (code) => partial.push(`error ${code}`) }, recorder(second)) });
    const room = uniqueRoom();
    const alice = await fx.connect(room, 'alice');
    const bob = await fx.connect(room, 'bob');
    await alice.invoke('enable', {});
    await bob.invoke('enable', {});
    await bob.waitForPush('messaging.enabled');
    await alice.invoke('send', { to_participant_id: bob.participantId, type: 'hi', message_json: '{"n":1}' });
    await bob.waitForPush('hi');
    await alice.invoke('broadcast', { type: 'all', message_json: '{}' });
    await bob.waitForPush('all');
    const failed = await alice.invoke('send', { to_participant_id: 'nobody', type: 'hi', message_json: '{}' });
    expect(failed).toMatchObject({ type: 'error', code: 1003 });
    await bob.close();
    await alice.waitForPush('participant.disabled');

    expect(second).toEqual(first);
    const names = first.map(([name]) => name);
    expect(names.filter((name) => name === 'participantJoined')).toHaveLength(2);
    expect(first).toContainEqual(['participantJoined', room, alice.participantId]);
    expect(first).toContainEqual(['messagingEnabled', room, bob.participantId]);
    expect(first).toContainEqual(['messageDelivered', 'direct', expect.any(Number), 1]);
    expect(first).toContainEqual(['messageDelivered', 'broadcast', expect.any(Number), 1]);
    expect(first).toContainEqual(['requestReceived', 'direct', expect.any(Number), room]);
    expect(first).toContainEqual(['requestReceived', 'broadcast', expect.any(Number), room]);
    expect(first).toContainEqual(['requestReceived', 'presence', expect.any(Number), room]);
    expect(first).toContainEqual(['errorResponse', 1003]);
    // The session actor's transitions, with the live session.
    expect(first).toContainEqual(['sessionTransition', expect.objectContaining({ id: bob.participantId }), 'xstate.init', { connected: 'disabled' }]);
    expect(first).toContainEqual(['sessionTransition', expect.objectContaining({ id: bob.participantId }), 'messaging.enable', { connected: 'enabled' }]);
    expect(first).toContainEqual(['sessionTransition', expect.objectContaining({ id: bob.participantId }), 'transport.closed', 'gone']);
    expect(first).toContainEqual(['messagingDisabled', room, bob.participantId]);
    expect(first).toContainEqual(['participantLeft', room, bob.participantId]);
    // Bob's enable announced him to alice: one presence push to one recipient.
    expect(first).toContainEqual(['messageDelivered', 'presence', expect.any(Number), 1]);
    expect(partial).toEqual(['error 1003']);
  });

  it('reports a refused upgrade with its status and reason', async () => {
    const events: Event[] = [];
    const fx = await servers.start({ observer: recorder(events) });
    const refused = await expectUpgradeRefused(fx.url, uniqueRoom(), 'not-a-token');
    expect(refused.status).toBe(403);
    expect(events).toContainEqual(['upgradeRefused', 403, refused.statusText]);
  });

  it('classifies requests by kind', () => {
    expect(requestKind('room.invoke_tool', { toolkit: 'messaging', tool: 'send' })).toBe('direct');
    expect(requestKind('room.invoke_tool', { toolkit: 'messaging', tool: 'broadcast' })).toBe('broadcast');
    expect(requestKind('room.invoke_tool', { toolkit: 'messaging', tool: 'enable' })).toBe('presence');
    expect(requestKind('room.invoke_tool', { toolkit: 'messaging', tool: 'toString' })).toBe('other');
    expect(requestKind('room.invoke_tool', { toolkit: 'other', tool: 'send' })).toBe('other');
    expect(requestKind('set_attributes', {})).toBe('presence');
  });
});
