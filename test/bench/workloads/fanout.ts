/**
 * Fan-out: one broadcaster in a room of `roomSize` enabled participants, all
 * in this process, keeping a window of broadcasts in flight. A broadcast
 * leaves the window once every other participant has received it.
 */
import type { FanoutTask, ThroughputResult } from '../ipc.js';
import { paddingFor, type BenchDriver } from '../drivers/types.js';
import { join, mapLimit } from './common.js';
import { runPhases, ThroughputMeter, WindowedSender } from './throughput.js';
import type { WorkloadContext } from './context.js';

/** Runs the fan-out workload. */
export async function runFanout(driver: BenchDriver, task: FanoutTask, context: WorkloadContext): Promise<ThroughputResult> {
  const room = `${context.roomPrefix}fanout`;
  const indexes = Array.from({ length: task.roomSize - 1 }, (_, i) => i);
  const receivers = await mapLimit(indexes, task.joinConcurrency, async (i) => {
    // In a cluster scenario every other receiver is on the other node: the room is split across both.
    const peer = await join(i % 2 === 0 ? context.receiverDriver : driver, room, `receiver-${i}`);
    context.retain([peer]);
    return peer;
  });
  const broadcaster = await join(driver, room, 'broadcaster');
  context.retain([broadcaster]);
  const meter = new ThroughputMeter();
  const window = new WindowedSender(meter, task.window, receivers.length, driver.acknowledged, paddingFor(task.bodyBytes), (body) =>
    broadcaster.broadcast(body),
  );
  for (const receiver of receivers) {
    receiver.onMessage = (message) => {
      meter.delivered(message.body, 0);
      window.delivered(message.body.s);
    };
  }
  return await runPhases(meter, [window], task, context.mark);
}
