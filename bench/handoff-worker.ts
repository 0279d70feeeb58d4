/**
 * Producer side of the handoff benchmark: writes `total` 76-byte datagram records as fast as it can,
 * either as transferable batches (the agent's design) or into a SharedArrayBuffer ring.
 */
import { parentPort, workerData } from 'node:worker_threads';

interface Opts {
  mode: 'transfer' | 'sab';
  total: number;
  batch: number;
  ring?: SharedArrayBuffer;
  ctl?: SharedArrayBuffer;
  slots?: number;
}
const o = workerData as Opts;
const REC = 80; // 4-byte header + 76-byte datagram
const datagram = new Uint8Array(76).fill(7);

if (o.mode === 'transfer') {
  const staging = new Uint8Array(o.batch * REC);
  let n = 0;
  for (let i = 0; i < o.total; i++) {
    const off = n * REC;
    staging[off] = 76;
    staging.set(datagram, off + 4);
    if (++n === o.batch || i === o.total - 1) {
      const buf = staging.slice(0, n * REC).buffer;
      parentPort?.postMessage({ buf, count: n }, [buf]);
      n = 0;
    }
  }
} else {
  const ring = new Uint8Array(o.ring as SharedArrayBuffer);
  const ctl = new Int32Array(o.ctl as SharedArrayBuffer); // [0] head (consumer), [1] tail (producer)
  const slots = o.slots as number;
  let tail = 0;
  for (let i = 0; i < o.total; i++) {
    // Full: wait for the consumer to move head.
    while (tail - Atomics.load(ctl, 0) >= slots) Atomics.wait(ctl, 0, Atomics.load(ctl, 0), 5);
    const off = (tail % slots) * REC;
    ring[off] = 76;
    ring.set(datagram, off + 4);
    tail++;
    if ((tail & 255) === 0 || i === o.total - 1) {
      Atomics.store(ctl, 1, tail);
      Atomics.notify(ctl, 1);
    }
  }
}
