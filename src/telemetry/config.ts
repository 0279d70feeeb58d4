/**
 * The agent's own telemetry: stats (cnproc.stats records) and metrics (Prometheus, OTLP).
 */

import { BOOLEAN, intFormat, urlOrEmpty } from '../config/formats.js';
import type { ConfigSection } from '../config/section.js';

export interface StatsConfig {
  intervalMs: number;
}

export const statsSection: ConfigSection<StatsConfig> = {
  reload: 'live',
  keys: {
    intervalMs: {
      doc: 'How often a cnproc.stats record with every counter is emitted (ms); 0 turns it off.',
      format: intFormat(0, 86_400_000),
      default: 60_000,
    },
  },
};

export interface MetricsConfig {
  enabled: boolean;
  host: string;
  port: number;
  otlp: boolean;
  otlpEndpoint: string;
  otlpIntervalMs: number;
}

export const metricsSection: ConfigSection<MetricsConfig> = {
  reload: 'restart',
  keys: {
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
};
