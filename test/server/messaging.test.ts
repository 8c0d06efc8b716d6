/**
 * The messaging toolkit over real sockets: enable/disable/send/broadcast,
 * the presence pushes, attributes, grants and the answers to bad requests.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, PARTICIPANT_NOT_FOUND_TEXT } from '../../src/protocol/index.js';
import type { RawClient } from '../helpers/raw-client.js';
import { uniqueRoom, useServer, useServers, type TestServer } from '../helpers/server.js';

const fx = useServer({}, 'test');
const servers = useServers();

/** Connects `names` to one room and enables messaging for each, in order. */
async function enabledPeers(room: string, names: string[], server: TestServer = fx): Promise<RawClient[]> {
  const peers: RawClient[] = [];
  for (const name of names) {
    const peer = await server.connect(room, name);
    expect(await peer.invoke('enable', {}, { tool_call_id: `enable-${name}` })).toEqual({ type: 'empty' });
    await peer.waitForPush('messaging.enabled');
    // Everyone already enabled learns of the newcomer before the next one joins.
    for (const other of peers) await other.waitForPush('participant.enabled', (p) => p.from === peer.participantId);
    peers.push(peer);
  }
  return peers;
}

describe('messaging', () => {
  it('sends room_ready then connected with a fresh id and the token name', async () => {
    const room = uniqueRoom();
    const alice = await fx.connect(room, 'alice');
    const alice2 = await fx.connect(room, 'alice');
    expect(alice.roomReady).toEqual({ room_name: room, room_url: `${fx.url}/rooms/${encodeURIComponent(room)}`, session_id: expect.any(String) });
    expect(alice.connected).toEqual({ type: 'init', participantId: expect.any(String), attributes: { name: 'alice' } });
    // Same identity twice = two participants.
    expect(alice2.participantId).not.toBe(alice.participantId);
    expect(alice2.roomReady.session_id).not.toBe(alice.roomReady.session_id);
  });

  it('answers enable with empty, then a snapshot of the others that excludes the receiver', async () => {
    const room = uniqueRoom();
    const [alice] = await enabledPeers(room, ['alice']);
    const bob = await fx.connect(room, 'bob', { token: { role: 'agent' } });
    await bob.invoke('enable', {});
    const snapshot = await bob.waitForPush('messaging.enabled');
    expect(snapshot.from).toBe(bob.participantId);
    expect(snapshot.message).toEqual({ participants: [{ id: alice.participantId, role: 'user', attributes: { name: 'alice' } }] });
    const announced = await alice.waitForPush('participant.enabled');
    expect(announced.from).toBe(bob.participantId);
    expect(announced.message).toEqual({ id: bob.participantId, role: 'agent', attributes: { name: 'bob' } });
  });

  it('orders the enable response before the messaging.enabled push', async () => {
    const alice = await fx.connect(uniqueRoom(), 'alice');
    const id = alice.allocateId();
    const { packEnvelope } = await import('../../src/protocol/index.js');
    alice.sendMessage(id, 'room.invoke_tool', packEnvelope({ toolkit: 'messaging', tool: 'enable', arguments: { type: 'json', json: {} }, tool_call_id: 't' }));
    const first = await alice.waitFor((m) => m.type === '__response__' || m.type === 'messaging.send');
    expect(first.type).toBe('__response__');
    expect(first.id).toBe(id);
    await alice.waitForPush('messaging.enabled');
  });

  it('re-enabling re-sends the snapshot without announcing again', async () => {
    const room = uniqueRoom();
    const [alice, bob] = await enabledPeers(room, ['alice', 'bob']);
    await bob.invoke('enable', {});
    expect((await bob.waitForPush('messaging.enabled')).message).toEqual({ participants: [expect.objectContaining({ id: alice.participantId })] });
    // A marker broadcast proves no second participant.enabled reached alice before it.
    await bob.invoke('broadcast', { type: 'marker', message_json: '{}' });
    const next = await alice.waitFor((m) => m.type === 'messaging.send');
    expect(next.header?.type).toBe('marker');
  });

  it('delivers a send with its message and attachment, and answers empty', async () => {
    const room = uniqueRoom();
    const [alice, bob] = await enabledPeers(room, ['alice', 'bob']);
    const reply = await alice.invoke('send', {
      to_participant_id: bob.participantId,
      type: 'test',
      message_json: JSON.stringify({ test: 'test2' }),
      attachment_base64: Buffer.from('bytes').toString('base64'),
    });
    expect(reply).toEqual({ type: 'empty' });
    const push = await bob.waitForPush('test');
    expect(push.from).toBe(alice.participantId);
    expect(push.message).toEqual({ test: 'test2' });
    expect(Buffer.from(push.attachment).toString()).toBe('bytes');
  });

  it('treats null optional fields as absent (Python sends participant_id and attachment_base64 as null)', async () => {
    const [alice, bob] = await enabledPeers(uniqueRoom(), ['alice', 'bob']);
    const reply = await alice.invoke(
      'send',
      { to_participant_id: bob.participantId, type: 'py', message_json: '{"a":1}', attachment_base64: null },
      { participant_id: null, on_behalf_of_id: null, tool_call_id: 'call-1', __meshagent__: { v: 1 } },
    );
    expect(reply).toEqual({ type: 'empty' });
    const push = await bob.waitForPush('py');
    expect(push.attachment.byteLength).toBe(0);
  });

  it('lets a participant that never enabled send (only the grant matters), but not receive', async () => {
    const room = uniqueRoom();
    const [bob] = await enabledPeers(room, ['bob']);
    const quiet = await fx.connect(room, 'quiet');
    expect(await quiet.invoke('send', { to_participant_id: bob.participantId, type: 'hi', message_json: '1' })).toEqual({ type: 'empty' });
    expect((await bob.waitForPush('hi')).message).toBe(1);
    expect(await bob.invoke('send', { to_participant_id: quiet.participantId, type: 'back', message_json: '1' })).toEqual({
      type: 'error',
      text: PARTICIPANT_NOT_FOUND_TEXT,
      code: ErrorCode.NotFound,
    });
  });

  it('answers a send to an unknown or departed participant with "the participant was not found" and 1003', async () => {
    const room = uniqueRoom();
    const [alice, bob] = await enabledPeers(room, ['alice', 'bob']);
    const notFound = { type: 'error', text: PARTICIPANT_NOT_FOUND_TEXT, code: ErrorCode.NotFound };
    expect(await alice.invoke('send', { to_participant_id: 'nobody', type: 't', message_json: '{}' })).toEqual(notFound);
    const bobId = bob.participantId;
    await bob.close();
    await alice.waitForPush('participant.disabled');
    expect(await alice.invoke('send', { to_participant_id: bobId, type: 't', message_json: '{}' })).toEqual(notFound);
  });

  it('answers a send to a participant in another room with not found', async () => {
    const [alice] = await enabledPeers(uniqueRoom(), ['alice']);
    const [elsewhere] = await enabledPeers(uniqueRoom(), ['elsewhere']);
    expect(await alice.invoke('send', { to_participant_id: elsewhere.participantId, type: 't', message_json: '{}' })).toMatchObject({ code: 1003 });
  });

  it('disable answers empty, tells the others, and stops delivery to the disabled participant', async () => {
    const room = uniqueRoom();
    const [alice, bob] = await enabledPeers(room, ['alice', 'bob']);
    expect(await bob.invoke('disable', {}, { tool_call_id: 'd' })).toEqual({ type: 'empty' });
    const gone = await alice.waitForPush('participant.disabled');
    expect(gone).toMatchObject({ from: bob.participantId, message: { id: bob.participantId } });
    expect(await alice.invoke('send', { to_participant_id: bob.participantId, type: 't', message_json: '{}' })).toMatchObject({ code: 1003 });
    // Disabling twice is harmless.
    expect(await bob.invoke('disable', {})).toEqual({ type: 'empty' });
  });

  it('broadcasts to every other enabled participant and skips the sender by default', async () => {
    const room = uniqueRoom();
    const [alice, bob, carol] = await enabledPeers(room, ['alice', 'bob', 'carol']);
    const quiet = await fx.connect(room, 'quiet');
    expect(await alice.invoke('broadcast', { type: 'chat.broadcast', message_json: '{"text":"hi"}' })).toEqual({ type: 'empty' });
    for (const peer of [bob, carol]) {
      const push = await peer.waitForPush('chat.broadcast');
      expect(push).toMatchObject({ from: alice.participantId, message: { text: 'hi' } });
    }
    // The sender and the non-enabled participant get nothing: a follow-up send arrives first.
    await bob.invoke('send', { to_participant_id: alice.participantId, type: 'after', message_json: '0' });
    const next = await alice.waitFor((m) => m.type === 'messaging.send');
    expect(next.header?.type).toBe('after');
    expect(quiet.queued.filter((m) => m.type === 'messaging.send')).toEqual([]);
  });

  it('keeps per-sender order for pipelined sends', async () => {
    const [alice, bob] = await enabledPeers(uniqueRoom(), ['alice', 'bob']);
    const count = 200;
    const replies = Array.from({ length: count }, (_, i) =>
      alice.invoke('send', { to_participant_id: bob.participantId, type: 'seq', message_json: String(i) }),
    );
    expect(await Promise.all(replies)).toEqual(Array.from({ length: count }, () => ({ type: 'empty' })));
    for (let i = 0; i < count; i++) expect((await bob.waitForPush('seq')).message).toBe(i);
  });

  it('relays attachments that span many packets', async () => {
    const [alice, bob] = await enabledPeers(uniqueRoom(), ['alice', 'bob']);
    const bytes = Buffer.alloc(100_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
    await alice.invoke('send', { to_participant_id: bob.participantId, type: 'big', message_json: '{}', attachment_base64: bytes.toString('base64') });
    const push = await bob.waitForPush('big');
    expect(Buffer.from(push.attachment).equals(bytes)).toBe(true);
  });

  it('merges set_attributes, sends no reply, and pushes the changed keys from the changer', async () => {
    const room = uniqueRoom();
    const [alice, bob] = await enabledPeers(room, ['alice', 'bob']);
    alice.notify('set_attributes', { status: 'ready', __meshagent__: { v: 1, otel: {} } });
    const push = await bob.waitForPush('participant.attributes');
    expect(push.from).toBe(alice.participantId);
    expect(push.message).toEqual({ attributes: { status: 'ready' } });
    // The merged map shows in the next snapshot; no response was sent for set_attributes.
    const carol = await fx.connect(room, 'carol');
    await carol.invoke('enable', {});
    const snapshot = await carol.waitForPush('messaging.enabled');
    expect(snapshot.message).toEqual({
      participants: [
        { id: alice.participantId, role: 'user', attributes: { name: 'alice', status: 'ready' } },
        { id: bob.participantId, role: 'user', attributes: { name: 'bob' } },
      ],
    });
    expect(alice.queued.filter((m) => m.type === '__response__')).toEqual([]);
  });

  it('refuses to rename a participant away from its token name, and accepts the unchanged name', async () => {
    const [alice, bob] = await enabledPeers(uniqueRoom(), ['alice', 'bob']);
    const refused = await alice.request('set_attributes', { name: 'bob', status: 'sneaky' });
    expect(refused).toMatchObject({ type: 'error', code: 1001 });
    expect((refused as { text: string }).text).toContain('attributes.name');
    // Re-sending the token's own name (as clients do after a reconnect) is fine.
    alice.notify('set_attributes', { name: 'alice', status: 'ok' });
    const push = await bob.waitForPush('participant.attributes');
    expect(push.message).toEqual({ attributes: { name: 'alice', status: 'ok' } });
  });

  it('refuses a "__proto__" attribute key and pollutes no prototype', async () => {
    const [alice, bob] = await enabledPeers(uniqueRoom(), ['alice', 'bob']);
    const reply = await alice.request('set_attributes', JSON.parse('{"__proto__":{"polluted":true},"x":1}') as object);
    expect(reply).toMatchObject({ type: 'error', code: 1002 });
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    alice.notify('set_attributes', { x: 2 });
    expect((await bob.waitForPush('participant.attributes')).message).toEqual({ attributes: { x: 2 } });
  });

  it('does not push attributes of a participant that has not enabled messaging', async () => {
    const room = uniqueRoom();
    const [bob] = await enabledPeers(room, ['bob']);
    const alice = await fx.connect(room, 'alice');
    alice.notify('set_attributes', { status: 'hidden' });
    await alice.invoke('enable', {});
    const announced = await bob.waitForPush('participant.enabled');
    // The stored attributes come with the announcement, and no attributes push preceded it.
    expect(announced.message).toEqual({ id: alice.participantId, role: 'user', attributes: { name: 'alice', status: 'hidden' } });
    expect(bob.queued.filter((m) => m.header?.type === 'participant.attributes')).toEqual([]);
  });

  it('includes the sender in broadcasts when broadcastToSender is set', async () => {
    const echoing = await servers.start({ broadcastToSender: true });
    const [alice, bob] = await enabledPeers(uniqueRoom(), ['alice', 'bob'], echoing);
    await alice.invoke('broadcast', { type: 'echo', message_json: '"x"' });
    expect((await alice.waitForPush('echo')).from).toBe(alice.participantId);
    expect((await bob.waitForPush('echo')).from).toBe(alice.participantId);
  });
});

describe('messaging grants', () => {
  it('denies every messaging tool with 1001 when the token has no api.messaging grant', async () => {
    const room = uniqueRoom();
    const [bob] = await enabledPeers(room, ['bob']);
    const denied = await fx.connect(room, 'denied', { token: { messaging: false } });
    for (const [tool, args] of [
      ['enable', {}],
      ['disable', {}],
      ['send', { to_participant_id: bob.participantId, type: 't', message_json: '{}' }],
      ['broadcast', { type: 't', message_json: '{}' }],
    ] as const) {
      const reply = await denied.invoke(tool, args);
      expect(reply).toMatchObject({ type: 'error', code: ErrorCode.PermissionDenied });
    }
  });

  it('honours the per-action send and broadcast flags', async () => {
    const room = uniqueRoom();
    const [bob] = await enabledPeers(room, ['bob']);
    const noSend = await fx.connect(room, 'nosend', { token: { messaging: { send: false } } });
    const noBroadcast = await fx.connect(room, 'nobroadcast', { token: { messaging: { broadcast: false } } });
    expect(await noSend.invoke('send', { to_participant_id: bob.participantId, type: 't', message_json: '{}' })).toEqual({
      type: 'error',
      text: "messaging send is not permitted by the token's api.messaging grant.",
      code: 1001,
    });
    expect(await noSend.invoke('broadcast', { type: 'ok', message_json: '{}' })).toEqual({ type: 'empty' });
    expect(await noBroadcast.invoke('broadcast', { type: 't', message_json: '{}' })).toMatchObject({ code: 1001 });
    expect(await noBroadcast.invoke('send', { to_participant_id: bob.participantId, type: 'ok2', message_json: '{}' })).toEqual({ type: 'empty' });
    expect((await bob.waitForPush('ok')).from).toBe(noSend.participantId);
    expect((await bob.waitForPush('ok2')).from).toBe(noBroadcast.participantId);
  });

  it('shows an empty participant list to a token whose grant has list: false', async () => {
    const room = uniqueRoom();
    await enabledPeers(room, ['bob']);
    const blind = await fx.connect(room, 'blind', { token: { messaging: { list: false } } });
    await blind.invoke('enable', {});
    expect((await blind.waitForPush('messaging.enabled')).message).toEqual({ participants: [] });
  });
});

describe('invalid requests', () => {
  it('answers an unknown request type with 1002', async () => {
    const alice = await fx.connect(uniqueRoom(), 'alice');
    expect(await alice.request('storage.list', { path: '/' })).toEqual({ type: 'error', text: 'unknown request type "storage.list".', code: 1002 });
  });

  it('answers unknown toolkits and tools with 1002', async () => {
    const alice = await fx.connect(uniqueRoom(), 'alice');
    expect(await alice.invoke('list', {}, {}, 'storage')).toMatchObject({ code: 1002, text: expect.stringContaining('toolkit: unknown toolkit "storage"') });
    expect(await alice.invoke('shout', {})).toMatchObject({ code: 1002, text: expect.stringContaining('tool: unknown messaging tool "shout"') });
  });

  it('refuses invoking a participant toolkit (participant_id set)', async () => {
    const alice = await fx.connect(uniqueRoom(), 'alice');
    expect(await alice.invoke('enable', {}, { participant_id: 'p1' })).toMatchObject({ code: 1002, text: expect.stringContaining('participant_id') });
  });

  it.each([
    ['a non-string to_participant_id', { to_participant_id: 5, type: 't', message_json: '{}' }, 'arguments.json.to_participant_id: expected string (got 5)'],
    ['a missing to_participant_id', { type: 't', message_json: '{}' }, 'arguments.json.to_participant_id: expected string (got undefined)'],
    ['a non-string type', { to_participant_id: 'x', type: 1, message_json: '{}' }, 'arguments.json.type: expected string (got 1)'],
    ['an empty type', { to_participant_id: 'x', type: '', message_json: '{}' }, 'arguments.json.type: expected a non-empty string (got "")'],
    ['message_json that is not JSON', { to_participant_id: 'x', type: 't', message_json: '{nope' }, 'arguments.json.message_json: expected a JSON text (got "{nope")'],
    ['message_json that is an object', { to_participant_id: 'x', type: 't', message_json: { a: 1 } }, 'arguments.json.message_json: expected string (got {"a":1})'],
    ['bad base64', { to_participant_id: 'x', type: 't', message_json: '{}', attachment_base64: 'ab$=' }, 'arguments.json.attachment_base64: expected standard base64 (got "ab$=")'],
    ['unpadded base64', { to_participant_id: 'x', type: 't', message_json: '{}', attachment_base64: 'YWJj1' }, 'arguments.json.attachment_base64: expected standard base64 (got "YWJj1")'],
    ['a non-string attachment', { to_participant_id: 'x', type: 't', message_json: '{}', attachment_base64: 7 }, 'arguments.json.attachment_base64: expected string (got 7)'],
  ])('answers a send with %s with 1002 naming the field', async (_what, args, text) => {
    const alice = await fx.connect(uniqueRoom(), 'alice');
    expect(await alice.invoke('send', args)).toEqual({ type: 'error', text, code: 1002 });
  });

  it('answers arguments that are not json content, and malformed headers, with 1002 naming the field', async () => {
    const alice = await fx.connect(uniqueRoom(), 'alice');
    expect(await alice.request('room.invoke_tool', { toolkit: 'messaging', tool: 'enable', arguments: { type: 'text', text: 'x' } })).toEqual({
      type: 'error',
      text: 'arguments.type: expected "json" (got "text").',
      code: 1002,
    });
    expect(await alice.request('room.invoke_tool', { toolkit: 'messaging', tool: 'enable' })).toMatchObject({ code: 1002, text: expect.stringMatching(/^arguments: expected object/) });
    expect(await alice.request('room.invoke_tool', { toolkit: 7, tool: 'enable', arguments: { type: 'json', json: {} } })).toMatchObject({
      code: 1002,
      text: 'toolkit: expected string (got 7)',
    });
    expect(await alice.invoke('enable', [1])).toMatchObject({ code: 1002, text: 'arguments.json: expected object (got [1])' });
    expect(await alice.invoke('broadcast', { type: 't' })).toMatchObject({ code: 1002, text: 'arguments.json.message_json: expected string (got undefined)' });
  });

  it('ignores __response__ messages from clients (it sends no requests)', async () => {
    const alice = await fx.connect(uniqueRoom(), 'alice');
    const { encodeContent } = await import('../../src/protocol/index.js');
    alice.sendMessage(0, '__response__', encodeContent({ type: 'empty' }));
    // The next request is answered normally and nothing else arrived first.
    expect(await alice.request('nope', {})).toMatchObject({ code: 1002 });
    expect(alice.queued).toEqual([]);
  });
});
