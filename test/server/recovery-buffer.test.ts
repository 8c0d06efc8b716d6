/**
 * The recovery buffer of a resumable session: what a heartbeat's pong
 * acknowledges is let go while attached, so a connected session holds only
 * what its client may not have read yet; a resume still gets everything
 * after the client's count.
 */
import { describe, expect, it } from 'vitest';
import { RecoveryBuffer } from '../../src/server/core/recovery.js';
import { OutgoingMessage } from '../../src/server/core/outgoing-message.js';
import { ResumeRefusal } from '../../src/protocol/resume.js';

const LIMITS = { maxRecoveryMessages: 100, maxRecoveryBytes: 1 << 20 };

function filled(n: number): { buffer: RecoveryBuffer; messages: OutgoingMessage[] } {
  const buffer = new RecoveryBuffer(LIMITS);
  const messages = Array.from({ length: n }, (_, i) => new OutgoingMessage(Buffer.from(`message ${i + 1}`)));
  for (const message of messages) expect(buffer.push(message)).toBe(true);
  return { buffer, messages };
}

describe('RecoveryBuffer', () => {
  it('lets go of what a pong acknowledged and resumes from the client count after it', () => {
    const { buffer, messages } = filled(5);
    expect(buffer.sentCount).toBe(5);
    buffer.acknowledge(3);
    expect(buffer.count).toBe(2);
    buffer.detach();
    expect(buffer.resume(3)).toEqual(messages.slice(3));
  });

  it('refuses a resume from before what was acknowledged (the client claimed fewer than it read)', () => {
    const { buffer } = filled(5);
    buffer.acknowledge(3);
    buffer.detach();
    expect(buffer.resume(2)).toBe(ResumeRefusal.Gap);
  });

  it('keeps everything while detached, whatever a late pong says', () => {
    const { buffer, messages } = filled(4);
    buffer.detach();
    buffer.acknowledge(4);
    expect(buffer.count).toBe(4);
    expect(buffer.resume(1)).toEqual(messages.slice(1));
  });

  it('an acknowledgement past what was sent empties the buffer and numbering goes on', () => {
    const { buffer } = filled(3);
    buffer.acknowledge(10);
    expect(buffer.count).toBe(0);
    const next = new OutgoingMessage(Buffer.from('message 4'));
    buffer.push(next);
    buffer.detach();
    expect(buffer.resume(3)).toEqual([next]);
  });
});
