/**
 * Periodic reporting while running: a cnproc.loss record and log line whenever anything was lost
 * since the last look, export failures, the downtime of the previous run once, and cnproc.stats
 * records every stats.intervalMs (live on reload). All from the one telemetry snapshot.
 */
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import type { OtlpDelivery } from '../delivery/otlp-delivery.js';
import type { HrTime } from '../kernel/events.js';
import type { ProcessLogs } from '../pipeline/pipeline.js';
import { downtimeRecord, lossRecord, statsRecord } from '../telemetry/agent-records.js';
import type { TelemetrySnapshot } from '../telemetry/snapshot.js';
import type { Logger } from '../util/log.js';

/** Longest wait after a restart for an event on every CPU before the downtime is reported. */
const DOWNTIME_WAIT_MS = 15_000;

function now(): HrTime {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

export interface LossReportDeps {
  snapshot: () => TelemetrySnapshot;
  log: Logger;
  ownLogger: OtelLogger;
  logs: ProcessLogs;
  otlp: OtlpDelivery | null;
  /** Forks the kernel counted when the subscription started (restart continuity). */
  forksAtStart: number;
}

export class LossReport {
  private last: TelemetrySnapshot;
  private downtimeReported: boolean;
  private readonly startedMs = performance.now();
  private lossTimer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;

  constructor(private readonly d: LossReportDeps) {
    this.last = d.snapshot();
    this.downtimeReported = d.otlp?.continuity?.previous == null;
  }

  /** Reports loss every `lossIntervalMs` and emits stats every `statsIntervalMs` (0: none). */
  start(lossIntervalMs: number, statsIntervalMs: number): void {
    this.lossTimer = setInterval(() => this.reportLoss(), lossIntervalMs);
    this.lossTimer.unref();
    this.setStatsInterval(statsIntervalMs);
  }

  /** stats.intervalMs, live on reload. */
  setStatsInterval(ms: number): void {
    if (this.statsTimer !== null) clearInterval(this.statsTimer);
    this.statsTimer = null;
    if (ms === 0) return;
    this.statsTimer = setInterval(() => this.d.ownLogger.emit(statsRecord(this.d.snapshot(), now())), ms);
    this.statsTimer.unref();
  }

  stop(): void {
    if (this.lossTimer !== null) clearInterval(this.lossTimer);
    if (this.statsTimer !== null) clearInterval(this.statsTimer);
    this.lossTimer = null;
    this.statsTimer = null;
  }

  /** What was lost since the last report, as a record and a log line; export failures in the log. */
  reportLoss(): void {
    const cur = this.d.snapshot();
    const rec = lossRecord(this.last, cur, now());
    if (rec) {
      this.d.log.warn(String(rec.body));
      this.d.ownLogger.emit(rec);
    }
    if (!this.downtimeReported) this.reportDowntime();
    for (let i = 0; i < cur.exporters.length; i++) {
      const a = this.last.exporters[i]?.stats;
      const b = cur.exporters[i]?.stats;
      if (a && b && b.failedExports > a.failedExports)
        this.d.log.warn(`export failed (${b.failedExports - a.failedExports}x): ${b.lastError}`);
    }
    this.last = cur;
  }

  /**
   * Restart continuity, once: as soon as every CPU the previous run saved a seq for has had an
   * event (so its seq gap can be measured), or after DOWNTIME_WAIT_MS with the CPUs seen by then.
   */
  private reportDowntime(): void {
    const cont = this.d.otlp?.continuity;
    if (!cont) return;
    const first = this.d.logs.seqByCpu().first;
    const saved = Object.keys(cont.previous?.lastSeq ?? {});
    if (saved.some((cpu) => !first.has(Number(cpu))) && performance.now() - this.startedMs < DOWNTIME_WAIT_MS) return;
    this.downtimeReported = true;
    // Our LISTEN's acknowledgement takes a seq, and so did the previous run's IGNORE after a clean stop.
    const ownAcks = 1 + (cont.previous?.clean ? 1 : 0);
    const gap = cont.gap(first, this.d.forksAtStart, ownAcks);
    const rec = gap ? downtimeRecord(gap, now()) : null;
    if (rec) {
      this.d.log.warn(String(rec.body));
      this.d.ownLogger.emit(rec);
    }
  }
}
