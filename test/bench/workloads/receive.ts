/**
 * Receive rate: `clients` receivers connect to the lean sender and enable
 * messaging; the sender then streams to each as fast as it reads. The
 * figure is what the receivers handle over the measured phase, so it is the
 * client's cost per received message (decode, dispatch, the user callback).
 */
import type { ReceiveTask, ThroughputResult } from '../ipc.js';
import type { BenchDriver } from '../drivers/types.js';
import { mapLimit } from './common.js';
import { measure, ThroughputMeter } from './throughput.js';
import type { WorkloadContext } from './context.js';

/** Runs the receive workload. */
export async function runReceive(driver: BenchDriver, task: ReceiveTask, context: WorkloadContext): Promise<ThroughputResult> {
  const meter = new ThroughputMeter();
  let received = 0;
  const peers = await mapLimit(
    Array.from({ length: task.clients }, (_, i) => i),
    16,
    async (i) => {
      const peer = await driver.connect(`${context.roomPrefix}receive-${i}`, `receiver-${i}`);
      peer.onMessage = (message) => {
        received++;
        meter.delivered(message.body, message.attachmentBytes);
      };
      await peer.enable();
      return peer;
    },
  );
  context.retain(peers);
  const generatorCpu = await measure(meter, task, (name) => context.mark(name));
  if (meter.deliveries === 0) throw new Error(`no message was received during the measured phase (${received} before it)`);
  return {
    kind: 'throughput',
    deliveries: meter.deliveries,
    bytes: meter.bytes,
    durationMs: meter.measureEnd - meter.measureStart,
    latency: meter.latency.toData(),
    sent: received,
    errors: meter.errors,
    drained: true,
    generatorCpu,
  };
}
