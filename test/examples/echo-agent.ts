import { RoomClient } from '../../src/index.js';

// Connects with ROOMSTATE_URL, ROOMSTATE_ROOM and ROOMSTATE_TOKEN (or the MESHAGENT_* ones).
const room = new RoomClient();
await room.start();
await room.messaging.enable();

const isChat = (body: unknown): body is { text: string } => typeof (body as { text?: unknown } | null)?.text === 'string';

room.messaging.messagesOf('chat', isChat).subscribe(async (m) => {
  // m.message is { text: string }; a sender that has already left is a result, not a crash.
  const result = await room.messaging.reply(m, { message: { text: `echo: ${m.message.text}` } });
  console.log(result.sent ? `echoed ${m.fromParticipantId}` : `${m.fromParticipantId} left before the echo`);
});
process.on('SIGTERM', () => void room.close());
console.log('echo agent ready');
