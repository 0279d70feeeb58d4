/**
 * The agent's capture path alone, for the benchmark: counts events, prints "ready", and on SIGTERM
 * stops and prints its CaptureStats as one JSON line.
 */
import { ProcEventSource } from '../src/kernel/source.js';

let events = 0;
const source = await ProcEventSource.start({
  onEvents: (batch) => {
    events += batch.length;
  },
});
process.stdout.write(`ready ${JSON.stringify(source.info)}\n`);
process.once('SIGTERM', async () => {
  const stats = await source.stop();
  process.stdout.write(`${JSON.stringify({ ...stats, counted: events })}\n`);
  process.exit(0);
});
