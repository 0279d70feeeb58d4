/**
 * One contender of the enrich benchmark. mode "agent": the agent's path (the capture thread reads
 * /proc at receipt, the process model parses); "agent-exec": the same, woken by execs only
 * (capture.wakeup: exec) instead of by every event. mode "naive": no capture-thread reads; /proc is read
 * on the main thread when the event is consumed (read after queueing).
 * Reads the storm workers' pids from stdin, counts their children's execs, and on SIGTERM prints
 * one JSON line: execs, complete, flagged.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ProcEventSource } from '../src/kernel/source.js';
import { Enricher } from '../src/process/enricher.js';
import { readHostClock } from '../src/process/identity.js';

const arg = process.argv[2];
const mode = arg === 'naive' ? 'naive' : 'agent';
/** "agent-exec": the agent's path woken by execs only (capture.wakeup: exec). */
const wakeup = arg === 'agent-exec' ? 'exec' : 'every';
const workers = new Set<number>();
const childOf = new Map<number, number>();
let execs = 0;
let complete = 0;
let flagged = 0;
const enricher = new Enricher(readHostClock(), { ancestryDepth: 4, maxProcesses: 65_536 });

const source = await ProcEventSource.start({
  events: ['fork', 'exec', 'exit'],
  wakeup,
  snapshot: { exec: mode === 'agent', fork: mode === 'agent', maxBytes: 32_768 },
  onEvents: (events) => {
    for (const e of events) {
      const x = mode === 'agent' ? enricher.enrich(e, e.procSnapshot) : null;
      if (e.kind === 'fork' && !e.isThread) childOf.set(e.tgid, e.parentTgid);
      else if (e.kind === 'exit') childOf.delete(e.tgid);
      if (e.kind !== 'exec' || !workers.has(childOf.get(e.tgid) ?? -1)) continue;
      execs++;
      if (x) {
        if (x.process?.exe && x.process.argv) complete++;
        else if (x.process && x.process.missing.length > 0) flagged++;
      } else {
        try {
          const exe = readlinkSync(`/proc/${e.tgid}/exe`);
          const cmdline = readFileSync(`/proc/${e.tgid}/cmdline`);
          if (exe && cmdline.length > 0) complete++;
        } catch {
          // missed: the naive reader has nothing to flag it with
        }
      }
    }
  },
});
createInterface({ input: process.stdin }).on('line', (line) => {
  for (const p of line.split(',')) workers.add(Number(p));
  process.stdout.write('armed\n');
});
process.stdout.write(`ready ${source.info.mode}\n`);
process.once('SIGTERM', async () => {
  await source.stop();
  process.stdout.write(`${JSON.stringify({ mode: arg, execs, complete, flagged })}\n`);
  process.exit(0);
});
