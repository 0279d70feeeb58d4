/**
 * Wiring: the exporters, the LoggerProvider they hang off, the resource, the metric readers and
 * the traces, built from the configuration before anything is subscribed. A bad endpoint, header
 * file or certificate is a ConfigError here (exit 78), before the kernel hears from us.
 */
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import { LoggerProvider, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import type { AgentConfig } from '../config/schema.js';
import { createOtlpDelivery, type OtlpDelivery } from '../delivery/otlp-delivery.js';
import { AccountingLogRecordProcessor } from '../otel/accounting-processor.js';
import { ConsoleRecordExporter } from '../otel/console-exporter.js';
import { DirectLoggerProvider } from '../otel/direct-logger.js';
import { logsUrl } from '../otel/otlp-exporter.js';
import { SCOPE_NAME } from '../otel/record.js';
import { buildResource } from '../otel/resource.js';
import { WorkloadResourceProcessor, WorkloadResources } from '../otel/workload-resource.js';
import { setCgroupHostRoot } from '../process/container.js';
import type { HostClock } from '../process/identity.js';
import type { UserDb } from '../process/users.js';
import { WorkloadResolver } from '../process/workload.js';
import { createOtlpMetricReader } from '../telemetry/otlp-metrics.js';
import { createAgentTraces } from '../traces/agent-traces.js';
import type { ProcessTraces } from '../traces/process-traces.js';
import type { Logger } from '../util/log.js';
import type { Policy } from './policy.js';

export interface Wiring {
  kinds: { console: boolean; otlp: boolean };
  /** One per exporter, in the order of `exporterNames`. */
  processors: AccountingLogRecordProcessor[];
  exporterNames: string[];
  otlp: OtlpDelivery | null;
  otlpProcessor: AccountingLogRecordProcessor | null;
  metricReaders: MetricReader[];
  traces: ProcessTraces | null;
  /** The agent's own resource (its records, metrics); workloads get theirs from `workloads`. */
  resource: ReturnType<typeof buildResource>;
  /** Container names from runtime state, shared by records, spans and resources. */
  workloads: WorkloadResolver;
  provider: LoggerProvider;
  /**
   * Where process-event records go: the same processors as `provider`, without the SDK's
   * LogRecordImpl (otel/direct-logger.ts). Flushed and shut down through `provider`.
   */
  recordProvider: DirectLoggerProvider;
  /** The agent's own records (cnproc.loss, cnproc.stats, cnproc.storm). */
  ownLogger: OtelLogger;
}

export interface WiringDeps {
  version: string;
  host: HostClock;
  stdout: NodeJS.WriteStream;
  log: Logger;
  users: UserDb;
  /** The running policy's redaction (follows reloads). */
  policy: () => Policy;
}

/** Which exporters run: auto = OTLP when an endpoint is configured, else the console. */
export function exporterKinds(config: AgentConfig): { console: boolean; otlp: boolean } {
  const k = config.exporter.kinds;
  if (k === 'auto') return logsUrl(config.otlp) ? { console: false, otlp: true } : { console: true, otlp: false };
  return { console: k.includes('console'), otlp: k.includes('otlp') };
}

/** Builds everything records go through; throws ConfigError for what the operator must fix. */
export function wire(config: AgentConfig, deps: WiringDeps): Wiring {
  const kinds = exporterKinds(config);
  const processors: AccountingLogRecordProcessor[] = [];
  const metricReaders: MetricReader[] = [];
  const resource = buildResource({
    serviceName: config.service.name,
    serviceVersion: deps.version,
    extraAttributes: config.resource.attributes,
    bootId: deps.host.bootId,
  });
  setCgroupHostRoot(config.process.hostRoot);
  const workloads = new WorkloadResolver({
    names: config.process.containerNames,
    hostRoot: config.process.hostRoot,
    maxStateFileBytes: config.process.maxStateFileBytes,
  });
  // Process records and spans go under their workload's resource; the agent's own keep `resource`.
  const workloadResources = new WorkloadResources(resource, workloads);
  if (kinds.console) {
    const format = config.console.format === 'auto' ? (deps.stdout.isTTY ? 'pretty' : 'json') : config.console.format;
    processors.push(
      new AccountingLogRecordProcessor(new ConsoleRecordExporter(format, (t) => deps.stdout.write(t)), {
        ...batchOptions(config),
        // A terminal wants events as they happen, not once a second.
        scheduledDelayMillis: Math.min(50, config.batch.scheduledDelayMs),
      }),
    );
  }
  if (config.metrics.otlp) metricReaders.push(createOtlpMetricReader(config));
  let otlp: OtlpDelivery | null = null;
  let otlpProcessor: AccountingLogRecordProcessor | null = null;
  if (kinds.otlp) {
    otlp = createOtlpDelivery(config, { version: deps.version, bootId: deps.host.bootId, hooks: deliveryHooks(deps.log) });
    otlpProcessor = new AccountingLogRecordProcessor(otlp.exporter, batchOptions(config));
    processors.push(otlpProcessor);
  }
  const traces = config.traces.enabled
    ? createAgentTraces(config, {
        resource: workloadResources.host,
        resourceFor: (p) => workloadResources.forProcess(p),
        version: deps.version,
        names: deps.users,
        redact: (argv) => deps.policy().redactor.redactArgv(argv),
      })
    : null;
  const all: LogRecordProcessor[] = [new WorkloadResourceProcessor(workloadResources), ...processors];
  const provider = new LoggerProvider({ resource, processors: all });
  return {
    kinds,
    processors,
    exporterNames: [...(kinds.console ? ['console'] : []), ...(kinds.otlp ? ['otlp'] : [])],
    otlp,
    otlpProcessor,
    metricReaders,
    traces,
    resource,
    workloads,
    provider,
    recordProvider: new DirectLoggerProvider(resource, all),
    ownLogger: provider.getLogger(SCOPE_NAME, deps.version),
  };
}

function batchOptions(config: AgentConfig) {
  return {
    maxQueueSize: config.batch.maxQueueSize,
    maxExportBatchSize: config.batch.maxExportBatchSize,
    scheduledDelayMillis: config.batch.scheduledDelayMs,
    exportTimeoutMillis: config.batch.exportTimeoutMs,
  };
}

/**
 * Log lines for the delivery loop: the first failure of an outage and then every tenth (an outage
 * of hours must not flood the log), each rejection, and the recovery.
 */
function deliveryHooks(log: Logger) {
  return {
    onAttemptFailed: (reason: string, delayMs: number, failures: number): void => {
      if (failures === 1 || failures % 10 === 0)
        log.warn(
          `export: collector not accepting (${reason}); attempt ${failures}, next in ${(delayMs / 1000).toFixed(1)} s; batches wait in the store`,
        );
    },
    onRejected: (reason: string, records: number): void => log.warn(`export: ${records} records rejected for good: ${reason}`),
    onRecovered: (failures: number, outageMs: number): void =>
      log.info(`export: collector accepting again after ${failures} failed attempts (${(outageMs / 1000).toFixed(1)} s)`),
  };
}
