/**
 * One kernel event → one OpenTelemetry log record: EventName, severity, a short human body, the
 * kernel's nanosecond timestamp, and the attributes from attributes.ts.
 */
import { type LogAttributes, type LogRecord, SeverityNumber } from '@opentelemetry/api-logs';
import type { HrTime, ProcEventKind } from '../kernel/events.js';
import type { EnrichedEvent } from '../process/model.js';
import { type MappingContext, recordAttributes, splitRecordAttributes } from './attributes.js';
import type { SplitAttributes } from './split-attributes.js';

/** Instrumentation scope of every record the agent makes. */
export const SCOPE_NAME = 'cnproc-otel';

/** EventName of each kind (no semantic convention names process lifecycle events). */
export const EVENT_NAMES: Readonly<Record<ProcEventKind, string>> = {
  fork: 'process.fork',
  exec: 'process.exec',
  exit: 'process.exit',
  uid: 'process.uid_change',
  gid: 'process.gid_change',
  sid: 'process.sid_change',
  ptrace: 'process.ptrace',
  comm: 'process.comm_change',
  coredump: 'process.coredump',
  unknown: 'process.unknown',
};

/**
 * INFO for normal events; WARN for a non-zero exit (or a signal death), a ptrace attach, and an
 * event type this agent does not know; ERROR for a core dump (the coredump event, or an exit that
 * dumped core).
 */
export function severityOf(x: EnrichedEvent): SeverityNumber {
  const e = x.event;
  switch (e.kind) {
    case 'exit':
      if (e.coreDumped) return SeverityNumber.ERROR;
      return e.status !== 0 ? SeverityNumber.WARN : SeverityNumber.INFO;
    case 'coredump':
      return SeverityNumber.ERROR;
    case 'ptrace':
      return e.attach ? SeverityNumber.WARN : SeverityNumber.INFO;
    case 'unknown':
      return SeverityNumber.WARN;
    default:
      return SeverityNumber.INFO;
  }
}

const SEVERITY_TEXT: Partial<Record<SeverityNumber, string>> = {
  [SeverityNumber.INFO]: 'INFO',
  [SeverityNumber.WARN]: 'WARN',
  [SeverityNumber.ERROR]: 'ERROR',
};

const BODY_MAX = 200;

function clip(s: string): string {
  return s.length <= BODY_MAX ? s : `${s.slice(0, BODY_MAX - 1)}…`;
}

/** "exec /usr/bin/curl -s … (pid 123, uid 1000)": what happened, in one short line. */
export function bodyOf(x: EnrichedEvent, commandLine: string | undefined): string {
  const e = x.event;
  const p = x.process;
  const prog = commandLine ?? p?.exe ?? (p?.comm ? `[${p.comm}]` : '?');
  const uid = p?.euid ?? '?';
  switch (e.kind) {
    case 'fork': {
      // The child still runs the parent's program: name it by executable, not the whole command line.
      const exe = p?.exe ?? prog;
      return clip(e.isThread ? `thread ${e.pid} created in ${exe} (pid ${e.tgid})` : `fork ${exe} (pid ${e.tgid}, parent ${e.parentTgid})`);
    }
    case 'exec':
      return clip(`exec ${prog} (pid ${e.tgid}, uid ${uid})`);
    case 'exit': {
      const how = e.signal !== null ? `killed by signal ${e.signal}${e.coreDumped ? ' (core dumped)' : ''}` : `exit ${e.exitCode}`;
      const what = e.isThread ? `thread ${e.pid} of ${prog}` : prog;
      return clip(`${how} ${what} (pid ${e.tgid})`);
    }
    case 'uid':
      return clip(`uid ${x.previous?.euid ?? '?'} → ${e.euid} (real ${x.previous?.ruid ?? '?'} → ${e.ruid}) ${prog} (pid ${e.tgid})`);
    case 'gid':
      return clip(`gid ${x.previous?.egid ?? '?'} → ${e.egid} (real ${x.previous?.rgid ?? '?'} → ${e.rgid}) ${prog} (pid ${e.tgid})`);
    case 'sid':
      return clip(`new session ${prog} (pid ${e.tgid})`);
    case 'ptrace':
      return clip(
        e.attach
          ? `ptrace attach by ${x.tracer?.exe ?? `pid ${e.tracerTgid}`} to ${prog} (pid ${e.tgid})`
          : `ptrace detach from ${prog} (pid ${e.tgid})`,
      );
    case 'comm':
      return clip(`comm "${x.previous?.comm ?? '?'}" → "${e.comm}" (pid ${e.tgid})`);
    case 'coredump':
      return clip(`core dump ${prog} (pid ${e.tgid})`);
    case 'unknown':
      return clip(`unknown event 0x${e.what.toString(16)} (pid ${e.tgid})`);
  }
}

/** A LogRecord whose attributes may be split (split-attributes.ts): only for a DirectLogger. */
export interface ProcessLogRecord extends LogRecord {
  split?: SplitAttributes;
}

/**
 * Builds the record for logger.emit. `observed` is when the agent read the event. With `split`
 * (the agent's DirectLogger, never an SDK Logger: it would see no attributes), exec and exit records
 * carry their attributes split instead of in `attributes`.
 */
export function toLogRecord(x: EnrichedEvent, ctx: MappingContext, observed: HrTime, split = false): ProcessLogRecord {
  const eventName = EVENT_NAMES[x.event.kind];
  const severityNumber = severityOf(x);
  const parts = split ? splitRecordAttributes(x, eventName, ctx) : null;
  const attributes = parts === null ? recordAttributes(x, eventName, ctx) : undefined;
  const commandLine = (parts !== null ? parts.block.attrs : (attributes as LogAttributes))['process.command_line'];
  const r: ProcessLogRecord = {
    eventName,
    timestamp: x.event.time,
    observedTimestamp: observed,
    severityNumber,
    severityText: SEVERITY_TEXT[severityNumber] ?? 'INFO',
    body: bodyOf(x, commandLine as string | undefined),
  };
  if (parts !== null) r.split = parts;
  else r.attributes = attributes;
  return r;
}
