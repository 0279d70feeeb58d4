/**
 * `npm run bench -- handoff`: how to move datagrams from the capture thread to the main thread.
 * Transferable batches (what the agent does) beside a SharedArrayBuffer ring with Atomics, each
 * moving the same records; prints records/s and the main thread's CPU per million records.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const WORKER = fileURLToPath(new URL('./handoff-worker.js', import.meta.url));
const REC = 80;

/** Atomics.waitAsync is in Node 20 but not in the ES2022 lib typings this project targets. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string };
  }
).waitAsync;

/** CPU seconds of the main thread alone (its tid is the pid), from /proc. */
function mainThreadCpu(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function viaTransfer(total: number, batch: number): Promise<{ seconds: number; mainCpu: number; sum: number }> {
  const t0 = process.hrtime.bigint();
  const c0 = mainThreadCpu();
  let seen = 0;
  let sum = 0;
  const w = new Worker(WORKER, { workerData: { mode: 'transfer', total, batch } });
  await new Promise<void>((resolve) => {
    w.on('message', (m: { buf: ArrayBuffer; count: number }) => {
      const v = new Uint8Array(m.buf);
      for (let i = 0; i < m.count; i++) sum += v[i * REC + 4] as number;
      seen += m.count;
      if (seen === total) resolve();
    });
  });
  const mainCpu = mainThreadCpu() - c0;
  await w.terminate();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, mainCpu, sum };
}

async function viaSab(total: number, slots: number): Promise<{ seconds: number; mainCpu: number; sum: number }> {
  const ring = new SharedArrayBuffer(slots * REC);
  const ctl = new SharedArrayBuffer(8);
  const c = new Int32Array(ctl);
  const v = new Uint8Array(ring);
  const t0 = process.hrtime.bigint();
  const c0 = mainThreadCpu();
  const w = new Worker(WORKER, { workerData: { mode: 'sab', total, ring, ctl, slots } });
  let head = 0;
  let sum = 0;
  while (head < total) {
    const tail = Atomics.load(c, 1);
    if (tail === head) {
      // Main thread must not block: wait asynchronously for the producer's notify.
      const r = waitAsync(c, 1, tail, 50);
      if (r.async) await r.value;
      continue;
    }
    for (; head < tail; head++) sum += v[(head % slots) * REC + 4] as number;
    Atomics.store(c, 0, head);
    Atomics.notify(c, 0);
  }
  const mainCpu = mainThreadCpu() - c0;
  await w.terminate();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, mainCpu, sum };
}

export async function handoffBench(args: string[]): Promise<void> {
  const total = Number(args[0] ?? 2_000_000);
  const rows: string[] = ['| handoff | records | records/s | main-thread CPU s per 1M records |', '|---|---:|---:|---:|'];
  for (const [name, run] of [
    ['transferable batches of 1,024 (agent)', () => viaTransfer(total, 1024)],
    ['transferable batches of 256', () => viaTransfer(total, 256)],
    ['SharedArrayBuffer ring, 65,536 slots', () => viaSab(total, 65_536)],
  ] as const) {
    const r = await run();
    if (r.sum !== total * 7) throw new Error(`${name}: records lost or corrupted`);
    rows.push(
      `| ${name} | ${total.toLocaleString('en-US')} | ${Math.round(total / r.seconds).toLocaleString('en-US')} | ${((r.mainCpu / total) * 1e6).toFixed(2)} |`,
    );
  }
  process.stdout.write(`${rows.join('\n')}\n`);
}
