/**
 * Benchmark runner: `npm run bench -- <name> [args]`. Each benchmark prints its figures beside a
 * peer measured in the same run.
 */
import { captureBench } from './capture.js';
import { enrichBench } from './enrich.js';
import { exportBench } from './export.js';
import { filterBench } from './filter.js';
import { handoffBench } from './handoff.js';
import { securityBench } from './security.js';
import { stormBench } from './storm.js';
import { workloadBench } from './workload.js';

const BENCHES: Record<string, (args: string[]) => Promise<void>> = {
  capture: captureBench,
  enrich: enrichBench,
  export: exportBench,
  filter: filterBench,
  handoff: handoffBench,
  security: securityBench,
  storm: stormBench,
  workload: workloadBench,
};

const [name, ...rest] = process.argv.slice(2);
const names = name ? [name] : Object.keys(BENCHES);
for (const n of names) {
  const bench = BENCHES[n];
  if (!bench) {
    process.stderr.write(`unknown benchmark '${n}'; available: ${Object.keys(BENCHES).join(', ')}\n`);
    process.exit(64);
  }
  await bench(rest);
}
