/**
 * The configuration schema, assembled from the sections each module declares next to its code
 * (kernel/config.ts, process/config.ts, ...): the single source of every default, type, doc line,
 * environment variable, CLI flag and reload mode. config/cnproc-otel.yaml documents the same keys
 * for operators, and a test checks the two agree.
 */
import type convict from 'convict';
import { type LogConfig, logSection } from '../agent/config.js';
import { type DeliveryConfig, deliverySection } from '../delivery/config.js';
import { type FilterConfig, filterSection, type RedactionConfig, redactionSection } from '../filter/config.js';
import { type CaptureConfig, captureSection } from '../kernel/config.js';
import {
  type BatchConfig,
  batchSection,
  type ConsoleConfig,
  consoleSection,
  type ExporterConfig,
  exporterSection,
  type OtlpConfig,
  otlpSection,
  type ResourceConfig,
  resourceSection,
  type ServiceConfig,
  serviceSection,
} from '../otel/config.js';
import { type PressureConfig, pressureSection } from '../pressure/config.js';
import { type ProcessConfig, processSection } from '../process/config.js';
import { type MetricsConfig, metricsSection, type StatsConfig, statsSection } from '../telemetry/config.js';
import { type TracesConfig, tracesSection } from '../traces/config.js';
import type { ConfigSection } from './section.js';

/** The shape of a validated configuration: one member per section. */
export interface AgentConfig {
  capture: CaptureConfig;
  process: ProcessConfig;
  filter: FilterConfig;
  redaction: RedactionConfig;
  exporter: ExporterConfig;
  otlp: OtlpConfig;
  batch: BatchConfig;
  delivery: DeliveryConfig;
  service: ServiceConfig;
  resource: ResourceConfig;
  stats: StatsConfig;
  pressure: PressureConfig;
  metrics: MetricsConfig;
  traces: TracesConfig;
  console: ConsoleConfig;
  log: LogConfig;
}

/**
 * Every section, in the order of config/cnproc-otel.yaml and --print-config. Whether SIGHUP
 * applies a key live is marked in its section; src/agent/reload.ts applies them, held to the marks.
 */
export const sections: { [K in keyof AgentConfig]: ConfigSection<AgentConfig[K]> } = {
  capture: captureSection,
  process: processSection,
  filter: filterSection,
  redaction: redactionSection,
  exporter: exporterSection,
  otlp: otlpSection,
  batch: batchSection,
  delivery: deliverySection,
  service: serviceSection,
  resource: resourceSection,
  stats: statsSection,
  pressure: pressureSection,
  metrics: metricsSection,
  traces: tracesSection,
  console: consoleSection,
  log: logSection,
};

/** The convict schema, assembled from the sections. */
export const schema = Object.fromEntries(
  Object.entries(sections).map(([name, section]) => [name, section.keys]),
) as unknown as convict.Schema<AgentConfig>;
