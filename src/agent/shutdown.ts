/**
 * Teardown, written once for every way the agent ends: after a failed start (nothing to flush) and
 * at a clean stop (unsubscribe, drain, flush within deadlines, save the restart state).
 */
import type { ProcessLogs } from '../pipeline/pipeline.js';
import type { SelfTelemetry } from '../telemetry/self-telemetry.js';
import { describeTraceStats } from '../traces/agent-traces.js';
import type { Logger } from '../util/log.js';
import type { LossReport } from './loss-report.js';
import type { PressureControl } from './pressure-control.js';
import type { Wiring } from './wiring.js';

export interface Running {
  wiring: Wiring;
  /** The signal handlers' remover. */
  detach: () => void;
  logs?: ProcessLogs | null;
  pressure?: PressureControl | null;
  loss?: LossReport | null;
  telemetry?: SelfTelemetry | null;
}

export interface StopOutcome {
  /** The export processors emptied their queues within the deadline. */
  flushed: boolean;
  /** The delivery store was sent empty within delivery.stopTimeoutMs. */
  delivered: boolean;
}

export interface TeardownOptions {
  log: Logger;
  /** A clean stop: drain, flush, report loss, save the restart state. false: a failed start. */
  clean: boolean;
  /** Longest wait for the export processors and the traces (batch.exportTimeoutMs). */
  exportTimeoutMs: number;
  /** Longest wait for the delivery store to empty (delivery.stopTimeoutMs). */
  stopTimeoutMs: number;
  /** Called once everything is delivered or given up, before the metrics listener closes. */
  report?: (outcome: StopOutcome) => void;
}

function within<T>(p: Promise<T>, ms: number, late: T): Promise<T> {
  return Promise.race([p, new Promise<T>((r) => setTimeout(() => r(late), ms).unref())]);
}

export async function teardown(r: Running, o: TeardownOptions): Promise<StopOutcome> {
  const { wiring: w } = r;
  r.loss?.stop();
  r.pressure?.stop();
  if (r.logs) await r.logs.stop();
  if (o.clean) {
    r.pressure?.drain();
    r.loss?.reportLoss();
  }
  // Flush what is queued, within a deadline: a dead collector must not hold the stop forever.
  const flushed = await within(
    w.provider.shutdown().then(() => true),
    o.exportTimeoutMs,
    false,
  );
  if (w.traces) {
    // Ended spans within the same deadline; spans of running processes are left to the next run.
    await within(w.traces.shutdown(), o.exportTimeoutMs, undefined);
    if (o.clean) o.log.info(describeTraceStats(w.traces.stats()));
  }
  // Every record is now in the store: send what the deadline allows; a disk spool keeps the rest.
  let delivered = true;
  if (w.otlp) {
    if (o.clean && r.logs) {
      delivered = await w.otlp.delivery.flush(o.stopTimeoutMs);
      try {
        w.otlp.continuity?.saveClean(r.logs.seqByCpu().last);
      } catch (err) {
        o.log.warn(`delivery: cannot save the restart state: ${(err as Error).message}`);
      }
    }
    await w.otlp.delivery.close();
  }
  const outcome = { flushed, delivered };
  o.report?.(outcome);
  await r.telemetry?.stop();
  r.detach();
  return outcome;
}
