/**
 * The stop summary as one JSON document (log.reportFile): the numbers of the stop lines, built
 * from the same snapshot and the same accounting functions (./report.ts), for a program to read —
 * an ExecStopPost script, a fleet audit, the storm and delivery tests — instead of log text.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { type LossKey, lossTotals } from '../telemetry/snapshot.js';
import { deliveryAccountingOf, eventAccountingOf, type StopReportInput } from './report.js';

export interface StopDocument {
  /** Bumped when a field changes meaning or goes away; new fields may appear within a version. */
  schema: 1;
  /** When the report was made (ISO 8601, UTC). */
  stoppedAt: string;
  /** The export processors emptied their queues within batch.exportTimeoutMs. */
  flushed: boolean;
  /** The delivery store was sent empty within delivery.stopTimeoutMs (true without OTLP). */
  delivered: boolean;
  /** Kernel to records: generated = kernel_lost + received; received = handoff_dropped + emitted + filtered + aggregated + rate_limited + priority_dropped. */
  accounting: Record<string, number>;
  /** Every loss cause's total since start (the cnproc.loss table). */
  loss: Record<LossKey, number>;
  /** stored + found_at_start = delivered + rejected + partially_rejected + spool_dropped + corrupt + write_failed + left; null without OTLP. */
  delivery: Record<string, number> | null;
  exporters: Array<{ name: string; exported: number; dropped: Record<string, number>; notSent: number }>;
  pressure: { level: number; transitions: number };
  /** The process table; null when process.enrich is off. */
  process: {
    live: number;
    evicted: number;
    execs: number;
    execIncomplete: number;
    execSuperseded: number;
    /** Executable-mount lookups that could not say (each flagged on its record); null with process.executableMount off. */
    exeMountUnknown: number | null;
    /** Executable hashing (process.hashExecutables); null when off. */
    hash: { hashed: number; bytes: number; execsWithHash: number; execsLate: number; skipped: Record<string, number> } | null;
  } | null;
  /** Filter rule hits; null without rules. */
  filter: { kept: number; dropped: number; rules: Array<{ name: string; action: string; hits: number }>; defaultHits: number } | null;
}

export function stopDocument(r: StopReportInput, now = new Date()): StopDocument {
  const f = r.final;
  const fs = r.filter.rules.length > 0 ? r.filter.stats() : null;
  return {
    schema: 1,
    stoppedAt: now.toISOString(),
    flushed: r.flushed,
    delivered: r.delivered,
    accounting: eventAccountingOf(f),
    loss: lossTotals(f),
    delivery: f.delivery ? deliveryAccountingOf(r.otlpStored, f.delivery) : null,
    exporters: f.exporters.map(({ name, stats: p }) => ({
      name,
      exported: p.exported,
      dropped: { ...p.dropped },
      notSent: p.queued + p.inFlight,
    })),
    pressure: { level: f.pressure.level, transitions: f.pressure.transitions },
    process: r.enrich
      ? {
          live: f.process.processes,
          evicted: f.process.evicted,
          execs: f.process.execs,
          execIncomplete: f.process.execIncomplete,
          execSuperseded: f.capture.execSuperseded.flagged + f.capture.execSuperseded.unflagged,
          exeMountUnknown: f.process.mounts?.unknown ?? null,
          hash: f.process.hash
            ? {
                hashed: f.process.hash.hashed,
                bytes: f.process.hash.bytes,
                execsWithHash: f.process.hash.execsWithHash,
                execsLate: f.process.hash.execsLate,
                skipped: { ...f.process.hash.skipped },
              }
            : null,
        }
      : null,
    filter: fs
      ? {
          kept: fs.kept,
          dropped: fs.dropped,
          rules: fs.rules.map((x) => ({ name: x.name, action: x.action, hits: x.hits })),
          defaultHits: fs.defaultHits,
        }
      : null,
  };
}

/** Writes beside the target and renames, so a reader sees the old document or the whole new one. */
export function writeStopDocument(path: string, doc: StopDocument): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, path);
}
