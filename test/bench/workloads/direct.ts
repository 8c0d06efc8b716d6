/**
 * Direct messages: `pairs` sender/receiver pairs, each pair in its own room,
 * each sender pipelining a window of sends to its receiver. With an
 * attachment size this is the attachment scenario. Sender and receiver of a
 * pair live in this process, so latency is measured on one clock; in a
 * cluster scenario the receiver is connected to the other node.
 */
import { randomBytes } from 'node:crypto';
import type { DirectTask, ThroughputResult } from '../ipc.js';
import { paddingFor, type BenchDriver } from '../drivers/types.js';
import { join, mapLimit } from './common.js';
import { runPhases, ThroughputMeter, WindowedSender } from './throughput.js';
import type { WorkloadContext } from './context.js';

/** Runs the direct (or attachment) workload. */
export async function runDirect(driver: BenchDriver, task: DirectTask, context: WorkloadContext): Promise<ThroughputResult> {
  const indexes = Array.from({ length: task.pairs }, (_, i) => i);
  const pairs = await mapLimit(indexes, 16, async (i) => {
    const room = `${context.roomPrefix}direct-${i}`;
    const receiver = await join(context.receiverDriver, room, `receiver-${i}`);
    const sender = await join(driver, room, `sender-${i}`);
    context.retain([sender, receiver]);
    return { sender, receiver };
  });
  const meter = new ThroughputMeter();
  const padding = paddingFor(task.bodyBytes);
  const attachment = task.attachmentBytes > 0 ? new Uint8Array(randomBytes(task.attachmentBytes)) : undefined;
  const senders = pairs.map(({ sender, receiver }) => {
    const to = receiver.id;
    const window = new WindowedSender(meter, task.window, 1, driver.acknowledged, padding, (body) => sender.send(to, body, attachment));
    receiver.onMessage = (message) => {
      if (message.attachmentBytes !== task.attachmentBytes) {
        meter.fail(new Error(`attachment of ${message.attachmentBytes} bytes arrived; ${task.attachmentBytes} were sent`));
      }
      meter.delivered(message.body, message.attachmentBytes);
      window.delivered(message.body.s);
    };
    return window;
  });
  return await runPhases(meter, senders, task, context.mark);
}
