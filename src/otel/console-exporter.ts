/**
 * LogRecordExporter to a terminal or pipe: the same records OTLP would carry, one line each.
 * pretty: "<time> <SEVERITY> <event> <body> [container=<name or short id> pod=<ns>/<pod> missing=…]";
 * json: one object per line with time, severity, event name, body, attributes and, for a
 * container's record, `workload`: the names its resource carries (agent) or its attributes (library).
 */
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { isoNanos, unixNanos } from '../util/time.js';

export type ConsoleRecordFormat = 'pretty' | 'json';

/** Workload names shown with a record: from its resource (the agent's per-workload resources), else its attributes (library). */
const WORKLOAD_KEYS = [
  'container.name',
  'container.image.name',
  'k8s.namespace.name',
  'k8s.pod.name',
  'cnproc.container.unresolved',
] as const;

function workloadOf(r: ReadableLogRecord): Record<string, unknown> | undefined {
  if (typeof r.attributes['container.id'] !== 'string') return undefined;
  const ra = r.resource?.attributes ?? {};
  let out: Record<string, unknown> | undefined;
  for (const k of WORKLOAD_KEYS) {
    const v = ra[k] ?? r.attributes[k];
    if (v === undefined) continue;
    out ??= {};
    out[k] = v;
  }
  return out;
}

function pretty(r: ReadableLogRecord): string {
  const a = r.attributes;
  let extra = '';
  const c = a['container.id'];
  if (typeof c === 'string') {
    const w = workloadOf(r);
    const name = w?.['container.name'];
    extra += ` container=${typeof name === 'string' ? name : c.slice(0, 12)}`;
    if (w?.['k8s.pod.name'] !== undefined) extra += ` pod=${String(w['k8s.namespace.name'] ?? '?')}/${String(w['k8s.pod.name'])}`;
  }
  const m = a['cnproc.process.missing'];
  if (Array.isArray(m) && m.length > 0) extra += ` missing=${m.join(',')}`;
  if (a['cnproc.process.args_redacted'] === true) extra += ' redacted';
  return `${isoNanos(r.hrTime as [number, number])} ${(r.severityText ?? '').padEnd(5)} ${(r.eventName ?? '').padEnd(20)} ${String(r.body ?? '')}${extra}`;
}

function json(r: ReadableLogRecord): string {
  return JSON.stringify({
    time: isoNanos(r.hrTime as [number, number]),
    timeUnixNano: unixNanos(r.hrTime as [number, number]),
    observedTimeUnixNano: unixNanos(r.hrTimeObserved as [number, number]),
    severityNumber: r.severityNumber,
    severityText: r.severityText,
    eventName: r.eventName,
    body: r.body,
    attributes: r.attributes,
    workload: workloadOf(r),
  });
}

export class ConsoleRecordExporter implements LogRecordExporter {
  private readonly format: (r: ReadableLogRecord) => string;

  constructor(
    format: ConsoleRecordFormat,
    private readonly write: (text: string) => boolean | undefined,
  ) {
    this.format = format === 'json' ? json : pretty;
  }

  export(records: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    let text = '';
    for (let i = 0; i < records.length; i++) text += `${this.format(records[i] as ReadableLogRecord)}\n`;
    try {
      this.write(text);
      done({ code: ExportResultCode.SUCCESS });
    } catch (err) {
      done({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}
