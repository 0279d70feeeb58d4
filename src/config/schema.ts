/**
 * The configuration schema: the single source of every default, type, doc line, environment
 * variable and CLI flag. config/cnproc-otel.yaml documents the same keys for operators, and a test
 * checks the two agree.
 */
import type convict from 'convict';
import { Redactor } from '../filter/redact.js';
import { compileRules } from '../filter/rules.js';
import { EVENT_TYPES, type EventType } from '../kernel/events.js';
import { BOOLEAN, bytesFormat, intFormat, listOf, oneOf, patternList, ruleList, urlOrEmpty } from './formats.js';

export const CONSOLE_FORMATS = ['auto', 'pretty', 'json'] as const;
export type ConsoleFormat = (typeof CONSOLE_FORMATS)[number];
export const EXPORTER_KINDS = ['auto', 'console', 'otlp', 'console,otlp'] as const;
export type ExporterKinds = (typeof EXPORTER_KINDS)[number];
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Rules that start a new trace (docs/traces.md); a process whose parent is not traced always does. */
export const TRACE_ROOTS = ['session', 'executable', 'container'] as const;
export type TraceRoot = (typeof TRACE_ROOTS)[number];

/** The shape of a validated configuration. */
export interface AgentConfig {
  capture: {
    events: EventType[];
    exitNonzeroOnly: boolean;
    threads: boolean;
    receiveBufferBytes: number;
    recvBatch: number;
    batchMaxEvents: number;
    batchMaxDelayMs: number;
    handoffMaxEvents: number;
    ackTimeoutMs: number;
    statsIntervalMs: number;
    clockRecalibrateMs: number;
    threadNice: number;
    wakeup: 'exec' | 'every';
  };
  process: {
    enrich: boolean;
    forkSnapshot: boolean;
    maxCommandLineBytes: number;
    ancestryDepth: number;
    maxProcesses: number;
    containerNames: boolean;
    hostRoot: string;
    maxStateFileBytes: number;
  };
  filter: {
    defaultAction: 'keep' | 'drop';
    rules: unknown[];
  };
  redaction: {
    enabled: boolean;
    marker: string;
    patterns: string[];
  };
  exporter: {
    kinds: ExporterKinds;
  };
  otlp: {
    endpoint: string;
    logsEndpoint: string;
    protocol: OtlpProtocol;
    headers: string;
    headersFile: string;
    compression: 'gzip' | 'none';
    timeoutMs: number;
    certificate: string;
    clientKey: string;
    clientCertificate: string;
  };
  batch: {
    maxQueueSize: number;
    maxExportBatchSize: number;
    scheduledDelayMs: number;
    exportTimeoutMs: number;
  };
  delivery: {
    spool: boolean;
    spoolDir: string;
    spoolMaxBytes: number;
    fsync: 'always' | 'never';
    memoryMaxBytes: number;
    retryInitialMs: number;
    retryMaxMs: number;
    stopTimeoutMs: number;
  };
  service: {
    name: string;
  };
  resource: {
    attributes: string;
  };
  stats: {
    intervalMs: number;
  };
  metrics: {
    enabled: boolean;
    host: string;
    port: number;
    otlp: boolean;
    otlpEndpoint: string;
    otlpIntervalMs: number;
  };
  traces: {
    enabled: boolean;
    endpoint: string;
    root: TraceRoot[];
    rootExecutables: string[];
    maxOpenSpans: number;
    maxEventsPerSpan: number;
    snapshotIntervalMs: number;
  };
  pressure: {
    memoryLimitBytes: number;
    tickMs: number;
    upMs: number;
    downMs: number;
    stormWindowMs: number;
    stormSamples: number;
    dropTypes: EventType[];
    rateLimitPerParentExecutable: number;
    rateLimitPerContainer: number;
    rateLimitPerUser: number;
  };
  console: {
    format: ConsoleFormat;
  };
  log: {
    level: LogLevel;
  };
}

export const schema: convict.Schema<AgentConfig> = {
  capture: {
    events: {
      doc: 'Event types to subscribe to. On Linux 6.6+ the kernel sends only these; older kernels send all and the agent drops the rest (counted).',
      format: listOf('event-types', EVENT_TYPES),
      default: [...EVENT_TYPES],
      env: 'CNPROC_OTEL_EVENTS',
      arg: 'events',
    },
    exitNonzeroOnly: {
      doc: 'Report only exits with a non-zero status (kernel-side with PROC_EVENT_NONZERO_EXIT on 6.6+).',
      format: BOOLEAN,
      default: false,
      env: 'CNPROC_OTEL_EXIT_NONZERO_ONLY',
      arg: 'exit-nonzero-only',
    },
    threads: {
      doc: 'Report thread creation and thread exit (fork/exit events whose pid differs from the tgid). When false they are dropped and counted as filtered.',
      format: BOOLEAN,
      default: true,
      env: 'CNPROC_OTEL_THREADS',
      arg: 'threads',
    },
    receiveBufferBytes: {
      doc: 'Socket receive buffer to ask for. Each queued event costs about 832 bytes; 64 MiB holds about 80,000. Needs CAP_NET_ADMIN above net.core.rmem_max.',
      format: bytesFormat(65_536, 1_073_741_824),
      default: 67_108_864,
      env: 'CNPROC_OTEL_RECEIVE_BUFFER',
      arg: 'receive-buffer',
    },
    recvBatch: {
      doc: 'Datagrams taken per recvmmsg call.',
      format: intFormat(1, 4096),
      default: 256,
    },
    batchMaxEvents: {
      doc: 'Most datagrams handed from the capture thread to the main thread at once.',
      format: intFormat(1, 65_536),
      default: 1024,
    },
    batchMaxDelayMs: {
      doc: 'Longest an event waits in the capture thread before it is handed over.',
      format: intFormat(1, 1000),
      default: 20,
    },
    handoffMaxEvents: {
      doc: 'Most datagrams waiting for the main thread; beyond it the capture thread drops (counted as handoff_full) instead of letting the kernel queue overflow.',
      format: intFormat(1024, 16_777_216),
      default: 262_144,
    },
    ackTimeoutMs: {
      doc: 'How long to wait for the kernel to acknowledge the subscription.',
      format: intFormat(10, 60_000),
      default: 1000,
    },
    statsIntervalMs: {
      doc: 'How often the capture thread reads its kernel drop counters.',
      format: intFormat(100, 600_000),
      default: 1000,
    },
    clockRecalibrateMs: {
      doc: 'How often the monotonic-to-wall-clock offset is measured again (follows clock steps).',
      format: intFormat(100, 3_600_000),
      default: 10_000,
    },
    threadNice: {
      doc: 'Nice value of the capture thread (-20..19). Negative runs it ahead of a busy workload, so /proc is read before short-lived programs exit; needs root or CAP_SYS_NICE (refusal is logged, capture goes on at 0).',
      format: intFormat(-20, 19),
      default: -10,
    },
    wakeup: {
      doc: "What wakes the capture thread. 'every': each event, as soon as it is queued. 'exec': only execs, through a second, exec-only subscription; every other event is taken from the main socket at the same wakeup or after batchMaxDelayMs: one wakeup per exec instead of one per event, about a quarter less capture-thread CPU at a steady exec rate, but a thread that sleeps more reads /proc a little later (3-6 points fewer complete records of sub-millisecond programs in exec storms, each miss flagged). 'exec' needs Linux 6.6+ and a receive buffer of at least 16 MiB as obtained, else 'every' is used; the start log says which.",
      format: oneOf('wakeup', ['every', 'exec']),
      default: 'every',
      env: 'CNPROC_OTEL_WAKEUP',
    },
  },
  process: {
    enrich: {
      doc: 'Read /proc for each exec (executable, argv, cwd, ids, cgroup, login uid) as soon as the event arrives, and keep a process table.',
      format: BOOLEAN,
      default: true,
      env: 'CNPROC_OTEL_ENRICH',
      arg: 'enrich',
    },
    forkSnapshot: {
      doc: "Read a forked child's /proc/<pid>/stat (its start time makes the stable process id exact). Costs one read per fork.",
      format: BOOLEAN,
      default: true,
    },
    maxCommandLineBytes: {
      doc: 'Most bytes of a command line kept; longer ones are cut and flagged truncated.',
      format: bytesFormat(256, 1_048_576),
      default: 32_768,
    },
    ancestryDepth: {
      doc: 'How many ancestors (parent, grandparent, ...) each record lists by executable.',
      format: intFormat(0, 64),
      default: 4,
    },
    maxProcesses: {
      doc: 'Most processes in the process table; beyond it the least recently seen are evicted (counted).',
      format: intFormat(1024, 4_194_304),
      default: 65_536,
    },
    containerNames: {
      doc: "Name each container from its runtime's state on the host (containerd, CRI-O, podman, docker), read-only, once per container: container.name, container.image.*, k8s.pod.name, k8s.namespace.name, k8s.container.name. false: ids only.",
      format: BOOLEAN,
      default: true,
      env: 'CNPROC_OTEL_CONTAINER_NAMES',
    },
    hostRoot: {
      doc: "Where the host's root filesystem is mounted when the agent runs in a container and the runtime state directories are not mounted at their own paths ('' = /).",
      format: String,
      default: '',
      env: 'CNPROC_OTEL_HOST_ROOT',
    },
    maxStateFileBytes: {
      doc: 'Largest runtime state file read to name a container (podman/CRI-O containers.json grows with the containers on the host); larger ones flag the container too-large.',
      format: bytesFormat(4096, 268_435_456),
      default: 4_194_304,
    },
  },
  filter: {
    defaultAction: {
      doc: 'What happens to an event no rule matches: keep or drop.',
      format: oneOf('filter-default', ['keep', 'drop']),
      default: 'keep',
      env: 'CNPROC_OTEL_FILTER_DEFAULT',
    },
    rules: {
      doc: 'Ordered rules, first match wins: [{ name, action: keep|drop, match: { events, executable, executableRegex, comm, argv, user, group, loginUser, container, containerName, image, namespace, pod, cgroup, parent, ancestor, exitCode, thread } }]. See src/filter/rules.ts.',
      format: ruleList('filter-rules', (rules) => {
        compileRules(rules);
      }),
      default: [],
    },
  },
  redaction: {
    enabled: {
      doc: 'Replace secrets in command lines (passwords, tokens, keys, URL credentials) before they leave the host.',
      format: BOOLEAN,
      default: true,
      env: 'CNPROC_OTEL_REDACTION',
    },
    marker: {
      doc: 'What a secret is replaced with.',
      format: String,
      default: '<redacted>',
    },
    patterns: {
      doc: 'Extra regular expressions; a named group "secret" limits the replacement to that group, else the whole match is replaced. A leading (?i) ignores case.',
      format: patternList('redaction-patterns', (patterns) => {
        new Redactor({ extraPatterns: patterns });
      }),
      default: [],
    },
  },
  exporter: {
    kinds: {
      doc: 'Where records go: console, otlp, or both (console,otlp). auto: otlp when an endpoint is configured, else console.',
      format: oneOf('exporter-kinds', EXPORTER_KINDS),
      default: 'auto',
      env: 'CNPROC_OTEL_EXPORTER',
      arg: 'exporter',
    },
  },
  otlp: {
    endpoint: {
      doc: 'OTLP/HTTP base URL, e.g. https://collector:4318 (/v1/logs is appended).',
      format: urlOrEmpty('otlp-endpoint'),
      default: '',
      env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
      arg: 'otlp-endpoint',
    },
    logsEndpoint: {
      doc: 'Full OTLP/HTTP logs URL, used as is; wins over endpoint.',
      format: urlOrEmpty('otlp-logs-endpoint'),
      default: '',
      env: 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT',
    },
    protocol: {
      doc: 'http/protobuf or http/json.',
      format: oneOf('otlp-protocol', OTLP_PROTOCOLS),
      default: 'http/protobuf',
      env: 'OTEL_EXPORTER_OTLP_PROTOCOL',
      arg: 'otlp-protocol',
    },
    headers: {
      doc: 'Request headers as "key=value,key2=value2" (values URL-encoded, as OTEL_EXPORTER_OTLP_HEADERS). Secret: masked in --print-config.',
      format: String,
      default: '',
      env: 'OTEL_EXPORTER_OTLP_HEADERS',
      sensitive: true,
    },
    headersFile: {
      doc: 'File with one header per line ("Name: value"), e.g. an API token kept out of the config. Re-read at start.',
      format: String,
      default: '',
      env: 'CNPROC_OTEL_OTLP_HEADERS_FILE',
    },
    compression: {
      doc: 'gzip or none.',
      format: oneOf('otlp-compression', ['gzip', 'none']),
      default: 'gzip',
      env: 'OTEL_EXPORTER_OTLP_COMPRESSION',
    },
    timeoutMs: {
      doc: 'Time for one export request, retries included (ms).',
      format: intFormat(100, 600_000),
      default: 10_000,
      env: 'OTEL_EXPORTER_OTLP_TIMEOUT',
    },
    certificate: {
      doc: 'PEM file of the CA(s) that sign the collector certificate (TLS is always verified).',
      format: String,
      default: '',
      env: 'OTEL_EXPORTER_OTLP_CERTIFICATE',
    },
    clientKey: {
      doc: 'PEM file of the client private key, for mTLS.',
      format: String,
      default: '',
      env: 'OTEL_EXPORTER_OTLP_CLIENT_KEY',
    },
    clientCertificate: {
      doc: 'PEM file of the client certificate, for mTLS.',
      format: String,
      default: '',
      env: 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
    },
  },
  batch: {
    maxQueueSize: {
      doc: 'Most records waiting for export per exporter; beyond it records are dropped and counted (queue_full). A record with full process context takes about 5 KB of memory.',
      format: intFormat(64, 16_777_216),
      default: 8192,
    },
    maxExportBatchSize: {
      doc: 'Most records in one export request.',
      format: intFormat(1, 65_536),
      default: 1024,
    },
    scheduledDelayMs: {
      doc: 'Longest a record waits before its batch is sent (ms).',
      format: intFormat(1, 60_000),
      default: 1000,
    },
    exportTimeoutMs: {
      doc: 'An export that has not finished by then is counted as failed (ms).',
      format: intFormat(100, 600_000),
      default: 30_000,
    },
  },
  delivery: {
    spool: {
      doc: 'Keep OTLP batches in a disk spool until the collector took them (survives collector outages, restarts and kill -9). false: a bounded memory queue (diskless hosts); what it holds is lost at stop.',
      format: BOOLEAN,
      default: true,
      env: 'CNPROC_OTEL_SPOOL',
      arg: 'spool',
    },
    spoolDir: {
      doc: 'Spool directory (created with mode 0700; one agent per directory, locked). Also keeps the state that tells, after a restart, what happened while the agent was down.',
      format: String,
      default: '/var/lib/cnproc-otel/spool',
      env: 'CNPROC_OTEL_SPOOL_DIR',
      arg: 'spool-dir',
    },
    spoolMaxBytes: {
      doc: 'Spool size cap; beyond it the oldest batches are dropped and counted (spool_full).',
      format: bytesFormat(1_048_576, 1_099_511_627_776),
      default: 1_073_741_824,
      env: 'CNPROC_OTEL_SPOOL_MAX_BYTES',
    },
    fsync: {
      doc: 'never: the kernel writes batches back (an agent crash, kill -9 or OOM loses nothing stored; a power cut may lose the last seconds), like Fluent Bit storage.sync normal; always: fsync each batch and the directory before it is sent (survives a power cut; each fsync blocks the main thread for milliseconds).',
      format: oneOf('fsync', ['always', 'never']),
      default: 'never',
    },
    memoryMaxBytes: {
      doc: 'With the spool off: most bytes of serialized batches held in memory; beyond it the oldest are dropped and counted.',
      format: bytesFormat(1_048_576, 17_179_869_184),
      default: 67_108_864,
    },
    retryInitialMs: {
      doc: 'First wait after a retryable failure (429, 502, 503, 504, network error); doubles each time, with jitter (ms).',
      format: intFormat(10, 600_000),
      default: 1000,
    },
    retryMaxMs: {
      doc: 'Longest wait between two attempts, a Retry-After from the collector included (ms).',
      format: intFormat(100, 3_600_000),
      default: 60_000,
    },
    stopTimeoutMs: {
      doc: 'At stop, how long to keep sending what is left before leaving it in the spool (ms).',
      format: intFormat(0, 600_000),
      default: 10_000,
    },
  },
  service: {
    name: {
      doc: 'service.name of the resource. Empty: service.name from resource attributes, else cnproc-otel.',
      format: String,
      default: '',
      env: 'OTEL_SERVICE_NAME',
    },
  },
  resource: {
    attributes: {
      doc: 'Extra resource attributes, "key=value,key2=value2" (as OTEL_RESOURCE_ATTRIBUTES), e.g. deployment.environment.name=prod.',
      format: String,
      default: '',
      env: 'OTEL_RESOURCE_ATTRIBUTES',
    },
  },
  stats: {
    intervalMs: {
      doc: 'How often a cnproc.stats record with every counter is emitted (ms); 0 turns it off.',
      format: intFormat(0, 86_400_000),
      default: 60_000,
    },
  },
  pressure: {
    memoryLimitBytes: {
      doc: "Memory ceiling: resident memory (less V8's free heap) near this size counts as full pressure, so the ladder sheds work from half of it, before it is reached.",
      format: bytesFormat(64 * 1_048_576, 64 * 1_073_741_824),
      default: 268_435_456,
      env: 'CNPROC_OTEL_MEMORY_LIMIT',
    },
    tickMs: {
      doc: 'How often pressure is measured and storm windows are closed (ms).',
      format: intFormat(10, 10_000),
      default: 250,
    },
    upMs: {
      doc: 'How long pressure must stay above the next level threshold before the ladder climbs (ms); it then climbs straight to the highest level the pressure meets.',
      format: intFormat(0, 600_000),
      default: 200,
    },
    downMs: {
      doc: 'How long pressure must stay below a level threshold before the ladder steps down (ms): the hysteresis.',
      format: intFormat(0, 3_600_000),
      default: 5000,
    },
    stormWindowMs: {
      doc: 'Length of a storm aggregation window (ms): one cnproc.storm record per parent and executable per window.',
      format: intFormat(100, 600_000),
      default: 1000,
    },
    stormSamples: {
      doc: 'Pids listed as samples on a cnproc.storm record.',
      format: intFormat(0, 100),
      default: 5,
    },
    dropTypes: {
      doc: 'Event types dropped at the top of the ladder, besides thread events (exec and exit are dropped only if listed here).',
      format: listOf('pressure-drop-types', EVENT_TYPES, true),
      default: ['fork', 'comm', 'sid'],
    },
    rateLimitPerParentExecutable: {
      doc: 'Most events per second from the children of one parent executable (burst: twice that); 0: no limit.',
      format: intFormat(0, 10_000_000),
      default: 0,
    },
    rateLimitPerContainer: {
      doc: 'Most events per second from one container (burst: twice that); 0: no limit.',
      format: intFormat(0, 10_000_000),
      default: 0,
    },
    rateLimitPerUser: {
      doc: 'Most events per second from one effective user (burst: twice that); 0: no limit.',
      format: intFormat(0, 10_000_000),
      default: 0,
    },
  },
  metrics: {
    enabled: {
      doc: 'Serve Prometheus metrics, /healthz and /readyz.',
      format: BOOLEAN,
      default: true,
      env: 'CNPROC_OTEL_METRICS',
    },
    host: {
      doc: 'Address of the metrics listener. Keep 127.0.0.1 unless something off the host must scrape it.',
      format: String,
      default: '127.0.0.1',
      env: 'CNPROC_OTEL_METRICS_HOST',
    },
    port: {
      doc: 'Port of the metrics listener (0: any free port, logged).',
      format: intFormat(0, 65_535),
      default: 9464,
      env: 'CNPROC_OTEL_METRICS_PORT',
      arg: 'metrics-port',
    },
    otlp: {
      doc: 'Also push the same metrics over OTLP (to otlp.endpoint + /v1/metrics, with the otlp.* protocol, headers and TLS), every otlpIntervalMs.',
      format: BOOLEAN,
      default: false,
      env: 'CNPROC_OTEL_METRICS_OTLP',
    },
    otlpEndpoint: {
      doc: 'Full OTLP/HTTP metrics URL, used as is; default otlp.endpoint + /v1/metrics.',
      format: urlOrEmpty('metrics-otlp-endpoint'),
      default: '',
      env: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
    },
    otlpIntervalMs: {
      doc: 'How often metrics are pushed over OTLP (ms).',
      format: intFormat(1000, 86_400_000),
      default: 60_000,
      env: 'OTEL_METRIC_EXPORT_INTERVAL',
    },
  },
  traces: {
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
  console: {
    format: {
      doc: 'Terminal output: pretty (one readable line per event), json (one JSON object per line), or auto (pretty on a TTY, json otherwise).',
      format: oneOf('console-format', CONSOLE_FORMATS),
      default: 'auto',
      env: 'CNPROC_OTEL_CONSOLE_FORMAT',
      arg: 'console-format',
    },
  },
  log: {
    level: {
      doc: "The agent's own log on stderr.",
      format: oneOf('log-level', LOG_LEVELS),
      default: 'info',
      env: 'CNPROC_OTEL_LOG_LEVEL',
      arg: 'log-level',
    },
  },
};
