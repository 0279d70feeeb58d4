/**
 * The traces section (traces.*).
 */

import { BOOLEAN, intFormat, listOf, urlOrEmpty } from '../config/formats.js';
import type { ConfigSection } from '../config/section.js';

/** Rules that start a new trace (docs/traces.md); a process whose parent is not traced always does. */
export const TRACE_ROOTS = ['session', 'executable', 'container'] as const;
export type TraceRoot = (typeof TRACE_ROOTS)[number];

export interface TracesConfig {
  enabled: boolean;
  endpoint: string;
  root: TraceRoot[];
  rootExecutables: string[];
  maxOpenSpans: number;
  maxEventsPerSpan: number;
  snapshotIntervalMs: number;
}

export const tracesSection: ConfigSection<TracesConfig> = {
  reload: 'restart',
  keys: {
    enabled: {
      doc: 'Also export process lifetimes as spans (one per process, its parent process as parent span) and put their trace and span ids on the log records. See docs/traces.md.',
      format: BOOLEAN,
      default: false,
      env: 'CNPROC_OTEL_TRACES',
      arg: 'traces',
    },
    endpoint: {
      doc: 'Full OTLP/HTTP traces URL, used as is; default otlp.endpoint + /v1/traces. Headers, protocol, compression and TLS are the otlp.* ones.',
      format: urlOrEmpty('traces-endpoint'),
      default: '',
      env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    },
    root: {
      doc: 'Where a new trace begins, besides at processes whose parent is not traced (children of init, unknown parents): session (a session leader), executable (an exec of one of traces.rootExecutables), container (the first process of a container). Empty: only there.',
      format: listOf('trace-roots', TRACE_ROOTS, true),
      default: ['session'],
      env: 'CNPROC_OTEL_TRACES_ROOT',
    },
    rootExecutables: {
      doc: 'For the executable root rule: executables (full paths, or base names without a slash) whose exec starts a new trace, e.g. [make, /usr/sbin/cron].',
      format: (v: unknown) => {
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === ''))
          throw new Error('must be a list of executable paths or names (non-empty strings)');
      },
      default: [],
    },
    maxOpenSpans: {
      doc: 'Most processes with an open span (about 0.9 KB each); beyond it the least recently active span is dropped (counted) and rebuilt with the same ids if its process is seen again.',
      format: intFormat(1024, 4_194_304),
      default: 16_384,
    },
    maxEventsPerSpan: {
      doc: 'Most exec span events kept per span; later ones are dropped (counted, and in the span as dropped events).',
      format: intFormat(0, 1024),
      default: 32,
    },
    snapshotIntervalMs: {
      doc: 'A process running longer than this is exported in parts: the span so far is sent (cnproc.span.continued) and a continuation span follows, so long-lived processes and their children show up before the exit. 0: only at exit.',
      format: intFormat(0, 2_147_483_647),
      default: 0,
    },
  },
};
