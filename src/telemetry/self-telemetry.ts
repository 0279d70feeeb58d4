/**
 * The agent's own telemetry: every counter and gauge as OpenTelemetry metrics, served as
 * Prometheus text on a local listener together with /healthz (alive) and /readyz (subscribed to
 * the kernel and the last export did not fail). Bound to 127.0.0.1 by default: this agent runs
 * privileged on every host, and its counters are nobody else's business.
 *
 * Instruments are observable: they read the agent's counters when scraped, so the event path
 * pays nothing for them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Attributes, ObservableResult } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { Resource } from '@opentelemetry/resources';
import { MeterProvider, type MetricReader } from '@opentelemetry/sdk-metrics';
import { MALFORMED_REASONS } from '../kernel/decode.js';
import { HASH_SKIP_REASONS } from '../process/executable-hash.js';
import { withUnitSuffixes } from './prometheus-names.js';
import { LOSS_CAUSES, type TelemetrySnapshot } from './snapshot.js';

export type { TelemetrySnapshot } from './snapshot.js';

export interface SelfTelemetryOptions {
  host: string;
  port: number;
  resource: Resource;
  snapshot: () => TelemetrySnapshot;
  /** Serve /metrics, /healthz and /readyz on host:port (default true); false: only the extra readers. */
  listen?: boolean;
  /** More readers of the same instruments, e.g. a PeriodicExportingMetricReader pushing over OTLP. */
  readers?: MetricReader[];
}

type Observe = (r: ObservableResult<Attributes>, s: TelemetrySnapshot) => void;

/** name, kind, description, unit, observer: one line per instrument. */
const INSTRUMENTS: Array<[string, 'counter' | 'gauge', string, string, Observe]> = [
  ['cnproc.datagrams', 'counter', 'Datagrams read from the proc connector socket', '{datagram}', (r, s) => r.observe(s.capture.datagrams)],
  [
    'cnproc.events.delivered',
    'counter',
    'Events decoded and passed to the process model',
    '{event}',
    (r, s) => r.observe(s.capture.delivered),
  ],
  [
    'cnproc.events.lost',
    'counter',
    'Events lost before the agent could process them, by cause',
    '{event}',
    (r, s) => {
      r.observe(Math.max(0, s.capture.kernelDrops), { cause: 'kernel_receive_queue' });
      r.observe(s.capture.seqGapsLost, { cause: 'kernel_sequence_gap' });
      r.observe(s.capture.handoffDropped, { cause: 'handoff_full' });
    },
  ],
  [
    'cnproc.loss',
    'counter',
    'Everything lost, by cause, as the cnproc.loss records count it (events, or records after the export queue; spool_corrupt: batches)',
    '1',
    (r, s) => {
      for (const c of LOSS_CAUSES) r.observe(c.total(s), { cause: c.key });
    },
  ],
  [
    'cnproc.socket.enobufs',
    'counter',
    'Times the socket reported ENOBUFS (receive queue overflow)',
    '{occurrence}',
    (r, s) => r.observe(s.capture.enobufs),
  ],
  [
    'cnproc.capture.handoffs',
    'counter',
    'Batches of events the capture thread handed to the main thread (each wakes it once)',
    '{batch}',
    (r, s) => r.observe(s.capture.handoffs),
  ],
  [
    'cnproc.capture.exec_wakeups',
    'counter',
    'Wakeups of the capture thread by the exec-only socket (capture.wakeup: exec)',
    '{wakeup}',
    (r, s) => r.observe(s.capture.wakeup.execWakeups),
  ],
  [
    'cnproc.capture.exec_snapshots',
    'counter',
    'Exec /proc snapshots by when they were read (capture.wakeup: exec): at the wakeup, at the drain of the main socket, or at a wakeup and never claimed',
    '{snapshot}',
    (r, s) => {
      const w = s.capture.wakeup;
      r.observe(w.snapshotsEarly, { read: 'wakeup' });
      r.observe(w.snapshotsLate, { read: 'drain' });
      r.observe(w.snapshotsUnclaimed, { read: 'unclaimed' });
    },
  ],
  [
    'cnproc.capture.exec_superseded',
    'counter',
    'Exec snapshots read after a later exec of the same process: records flagged cnproc.exec.snapshot_superseded, or found too late to flag',
    '{exec}',
    (r, s) => {
      r.observe(s.capture.execSuperseded.flagged, { flagged: 'true' });
      r.observe(s.capture.execSuperseded.unflagged, { flagged: 'false' });
    },
  ],
  [
    'cnproc.datagrams.malformed',
    'counter',
    'Datagrams that were not well-formed proc connector events, by reason',
    '{datagram}',
    (r, s) => {
      for (const reason of MALFORMED_REASONS) r.observe(s.capture.malformed[reason], { reason });
    },
  ],
  [
    'cnproc.events.filtered',
    'counter',
    'Events not exported on purpose, by stage',
    '{event}',
    (r, s) => {
      r.observe(s.capture.filtered, { stage: 'subscription' });
      r.observe(s.filtered, { stage: 'rules' });
    },
  ],
  ['cnproc.records.emitted', 'counter', 'Log records emitted', '{record}', (r, s) => r.observe(s.emitted)],
  [
    'cnproc.records.exported',
    'counter',
    'Log records an exporter delivered',
    '{record}',
    (r, s) => {
      for (const e of s.exporters) r.observe(e.stats.exported, { exporter: e.name });
    },
  ],
  [
    'cnproc.records.dropped',
    'counter',
    'Log records an exporter dropped, by reason',
    '{record}',
    (r, s) => {
      for (const e of s.exporters) for (const [reason, n] of Object.entries(e.stats.dropped)) r.observe(n, { exporter: e.name, reason });
    },
  ],
  [
    'cnproc.export.queue.size',
    'gauge',
    'Records waiting or in flight per exporter',
    '{record}',
    (r, s) => {
      for (const e of s.exporters) r.observe(e.stats.queued + e.stats.inFlight, { exporter: e.name });
    },
  ],
  [
    'cnproc.delivery.records',
    'counter',
    'OTLP records by outcome: delivered, rejected (non-retryable answer), partially_rejected (partial success)',
    '{record}',
    (r, s) => {
      if (!s.delivery) return;
      r.observe(s.delivery.delivered, { outcome: 'delivered' });
      r.observe(s.delivery.rejected, { outcome: 'rejected' });
      r.observe(s.delivery.partiallyRejected, { outcome: 'partially_rejected' });
    },
  ],
  [
    'cnproc.delivery.retries',
    'counter',
    'OTLP attempts that failed and will be repeated (429, 502, 503, 504, network errors)',
    '{request}',
    (r, s) => {
      if (s.delivery) r.observe(s.delivery.retries);
    },
  ],
  [
    'cnproc.spool.held',
    'gauge',
    'Records waiting in the spool (or memory queue) for the collector',
    '{record}',
    (r, s) => {
      if (s.delivery) r.observe(s.delivery.store.records);
    },
  ],
  [
    'cnproc.spool.size',
    'gauge',
    'Bytes held by the spool (or memory queue)',
    'By',
    (r, s) => {
      if (s.delivery) r.observe(s.delivery.store.bytes);
    },
  ],
  [
    'cnproc.spool.dropped',
    'counter',
    'Spool batches removed unsent, by reason: full (size cap, oldest first), corrupt',
    '{batch}',
    (r, s) => {
      if (!s.delivery) return;
      r.observe(s.delivery.store.droppedOldest.batches, { reason: 'full' });
      r.observe(s.delivery.store.corrupt.batches, { reason: 'corrupt' });
    },
  ],
  [
    'cnproc.pressure.level',
    'gauge',
    'Pressure ladder level: 0 normal, 1 shed, 2 aggregate, 3 drop',
    '1',
    (r, s) => r.observe(s.pressure.level),
  ],
  [
    'cnproc.events.aggregated',
    'counter',
    'Events absorbed into cnproc.storm records',
    '{event}',
    (r, s) => r.observe(s.pressure.aggregated),
  ],
  [
    'cnproc.events.shed',
    'counter',
    'Events dropped on purpose under pressure, by reason',
    '{event}',
    (r, s) => {
      r.observe(s.pressure.dropped.rate_limit, { reason: 'rate_limit' });
      r.observe(s.pressure.dropped.priority, { reason: 'priority' });
    },
  ],
  ['cnproc.process_table.size', 'gauge', 'Processes in the process table', '{process}', (r, s) => r.observe(s.process.processes)],
  [
    'cnproc.process_table.evicted',
    'counter',
    'Process-table entries evicted to stay under the limit',
    '{process}',
    (r, s) => r.observe(s.process.evicted),
  ],
  [
    'cnproc.executable.hashes',
    'counter',
    'Executable files hashed (outcome hashed), or skipped by reason (too_large, not_regular, gone, denied, changed, timeout, queue_full, failed)',
    '{file}',
    (r, s) => {
      const h = s.process.hash;
      if (!h) return;
      r.observe(h.hashed, { outcome: 'hashed' });
      for (const k of HASH_SKIP_REASONS) r.observe(h.skipped[k], { outcome: k });
    },
  ],
  [
    'cnproc.executable.hash_execs',
    'counter',
    'Exec records by whether the executable hash was known (cached) or not yet (late: a later record of the process carries it)',
    '{exec}',
    (r, s) => {
      const h = s.process.hash;
      if (!h) return;
      r.observe(h.execsWithHash, { hash: 'cached' });
      r.observe(h.execsLate, { hash: 'late' });
    },
  ],
  [
    'cnproc.executable.hash_bytes',
    'counter',
    'Bytes of executable files read by the hasher',
    'By',
    (r, s) => {
      if (s.process.hash) r.observe(s.process.hash.bytes);
    },
  ],
  [
    'cnproc.containers',
    'gauge',
    'Containers whose identity and names the agent keeps',
    '{container}',
    (r, s) => r.observe(s.workloads?.containers ?? 0),
  ],
  [
    'cnproc.container.lookups',
    'counter',
    'Runtime-state lookups to name a container (first sight, and retries of unresolved ones), by outcome',
    '{lookup}',
    (r, s) => {
      const w = s.workloads;
      r.observe(w ? w.lookups - w.unresolved : 0, { outcome: 'resolved' });
      r.observe(w?.unresolved ?? 0, { outcome: 'unresolved' });
    },
  ],
  ['cnproc.socket.queued', 'gauge', 'Bytes waiting in the socket receive queue', 'By', (r, s) => r.observe(s.capture.socketQueuedBytes)],
  ['cnproc.memory.rss', 'gauge', 'Resident memory of the agent', 'By', (r) => r.observe(process.memoryUsage.rss())],
  [
    'cnproc.event.lag',
    'gauge',
    'Wall-clock now minus the kernel time of the last event processed',
    's',
    (r, s) => {
      if (s.lastEventTime) r.observe(Math.max(0, Date.now() / 1000 - (s.lastEventTime[0] + s.lastEventTime[1] / 1e9)));
    },
  ],
];

export class SelfTelemetry {
  private readonly exporter: PrometheusExporter;
  private readonly serializer = new PrometheusSerializer();
  private readonly provider: MeterProvider;
  private readonly server: Server;

  private constructor(private readonly opts: SelfTelemetryOptions) {
    this.exporter = new PrometheusExporter({ preventServerStart: true });
    this.provider = new MeterProvider({ resource: opts.resource, readers: [this.exporter, ...(opts.readers ?? [])] });
    const meter = this.provider.getMeter('cnproc-otel');
    for (const [name, kind, description, unit, observe] of INSTRUMENTS) {
      const inst =
        kind === 'counter'
          ? meter.createObservableCounter(name, { description, unit })
          : meter.createObservableGauge(name, { description, unit });
      inst.addCallback((r) => observe(r, opts.snapshot()));
    }
    this.server = createServer((req, res) => this.route(req, res));
  }

  /** Starts the listener; rejects with a clear message when the port is taken. */
  static async start(opts: SelfTelemetryOptions): Promise<SelfTelemetry> {
    const t = new SelfTelemetry(opts);
    if (opts.listen === false) return t;
    await new Promise<void>((resolve, reject) => {
      t.server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `metrics listener on ${opts.host}:${opts.port}: ${err.code ?? err.message} (set metrics.port, or metrics.enabled: false)`,
          ),
        ),
      );
      t.server.listen(opts.port, opts.host, () => resolve());
    });
    return t;
  }

  /** The port actually bound (metrics.port 0 picks a free one). */
  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /** Ready: subscribed to the kernel, no exporter's last export failed, and the collector took the last batch. */
  ready(s: TelemetrySnapshot): { ok: boolean; why: string } {
    if (!s.subscribed) return { ok: false, why: 'not subscribed to the proc connector' };
    const failing = s.exporters.filter((e) => e.stats.lastExportOk === false);
    if (failing.length > 0)
      return { ok: false, why: `last export failed: ${failing.map((e) => `${e.name}: ${e.stats.lastError}`).join('; ')}` };
    if (s.delivery?.lastOutcome === 'retry')
      return { ok: false, why: `collector not accepting (${s.delivery.consecutiveFailures} attempts): ${s.delivery.lastError}` };
    if (s.delivery?.lastOutcome === 'rejected') return { ok: false, why: `collector rejected the last batch: ${s.delivery.lastError}` };
    return { ok: true, why: 'subscribed and exporting' };
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET' }).end();
    } else if (path === '/metrics') {
      this.serveMetrics(res);
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('alive\n');
    } else if (path === '/readyz') {
      const r = this.ready(this.opts.snapshot());
      res.writeHead(r.ok ? 200 : 503, { 'content-type': 'text/plain' }).end(`${r.why}\n`);
    } else if (path === '/readyz/capture') {
      // Capturing, whatever the collector does: the DaemonSet's readiness (docs/deploy.md).
      const subscribed = this.opts.snapshot().subscribed;
      res
        .writeHead(subscribed ? 200 : 503, { 'content-type': 'text/plain' })
        .end(subscribed ? 'subscribed (delivery is not part of this check)\n' : 'not subscribed to the proc connector\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics, /healthz, /readyz or /readyz/capture\n');
    }
  }

  /** The exporter's own handler, with unit suffixes on the names (./prometheus-names.ts). */
  private serveMetrics(res: ServerResponse): void {
    this.exporter.collect().then(
      ({ resourceMetrics, errors }) => {
        // A failed observation leaves its metric out; say so where the scraper's operator looks.
        const notes = errors.map((e) => `# collection error: ${String(e).replace(/\n/g, ' ')}\n`).join('');
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(this.serializer.serialize(withUnitSuffixes(resourceMetrics)) + notes);
      },
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`# failed to collect metrics: ${err.message}\n`),
    );
  }

  async stop(): Promise<void> {
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Shutting down the provider makes a periodic reader push its last collection.
    await this.provider.shutdown();
  }
}
