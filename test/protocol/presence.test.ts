import { describe, expect, it } from 'vitest';
import { CodecError } from '../../src/errors.js';
import {
  decodePresence,
  isPresenceType,
  memberJson,
  participantAttributesBodyJson,
  participantDisabledBodyJson,
  participantEnabledBodyJson,
  snapshotBodyJson,
} from '../../src/protocol/presence.js';

const alice = { id: 'p-1', role: 'user', attributes: { name: 'alice', 'k"ey': 'va\u2028l' } };
const bob = { id: 'p-2', role: 'agent', attributes: { name: 'bob' } };

describe('presence codec', () => {
  it('knows the four control types and nothing else', () => {
    for (const type of ['messaging.enabled', 'participant.enabled', 'participant.disabled', 'participant.attributes']) expect(isPresenceType(type)).toBe(true);
    for (const type of ['chat', 'messaging.send', 'participant.added', '']) expect(isPresenceType(type)).toBe(false);
  });

  it('round-trips every body through JSON', () => {
    expect(decodePresence('messaging.enabled', JSON.parse(snapshotBodyJson([memberJson(alice), memberJson(bob)])), 'server')).toEqual({
      type: 'messaging.enabled',
      participants: [alice, bob],
    });
    expect(decodePresence('messaging.enabled', JSON.parse(snapshotBodyJson([])), 'server')).toEqual({ type: 'messaging.enabled', participants: [] });
    expect(decodePresence('participant.enabled', JSON.parse(participantEnabledBodyJson(bob)), 'p-2')).toEqual({ type: 'participant.enabled', participant: bob });
    expect(decodePresence('participant.disabled', JSON.parse(participantDisabledBodyJson('p-2')), 'p-2')).toEqual({ type: 'participant.disabled', participantId: 'p-2' });
    expect(decodePresence('participant.attributes', JSON.parse(participantAttributesBodyJson(alice.attributes)), 'p-1')).toEqual({
      type: 'participant.attributes',
      participantId: 'p-1',
      attributes: alice.attributes,
    });
  });

  it('defaults a missing role and attributes as servers may leave them out', () => {
    expect(decodePresence('participant.enabled', { id: 'p-3' }, 'p-3')).toEqual({ type: 'participant.enabled', participant: { id: 'p-3', role: 'user', attributes: {} } });
  });

  it('returns undefined for a user message type', () => {
    expect(decodePresence('chat', { text: 'hi' }, 'p-1')).toBeUndefined();
  });

  it.each([
    ['messaging.enabled', { participants: 'x' }, 'messaging.enabled.participants: expected an array, got "x".'],
    ['messaging.enabled', { participants: [{ id: '' }] }, 'messaging.enabled.participants.0: expected a participant {id, role, attributes}'],
    ['participant.enabled', null, 'participant.enabled: expected a participant'],
    ['participant.disabled', { id: 7 }, 'participant.disabled.id: expected a string, got 7.'],
    ['participant.attributes', { attributes: [] }, 'participant.attributes.attributes: expected an object'],
  ])('names the field of a malformed %s body', (type, body, message) => {
    expect(() => decodePresence(type, body, 'p-1')).toThrow(CodecError);
    expect(() => decodePresence(type, body, 'p-1')).toThrow(message);
  });
});
