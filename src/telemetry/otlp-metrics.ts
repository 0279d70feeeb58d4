/**
 * The agent's metrics pushed over OTLP/HTTP (metrics.otlp): the same instruments as /metrics, read
 * every otlpIntervalMs and sent to the collector with the logs' protocol, headers and TLS.
 */
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { type MetricReader, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { OtlpConfig } from '../otel/config.js';
import { ExporterConfigError, otlpExporterOptions, signalUrl } from '../otel/otlp-exporter.js';
import type { MetricsConfig } from './config.js';

/** metrics.otlpEndpoint as is, else otlp.endpoint + /v1/metrics (the OTLP spec rule); null if neither. */
export function metricsUrl(config: { otlp: OtlpConfig; metrics: MetricsConfig }): string | null {
  return signalUrl(config.metrics.otlpEndpoint, config.otlp.endpoint, 'metrics');
}

/** A periodic OTLP reader; throws ExporterConfigError for a missing endpoint or unreadable TLS files. */
export function createOtlpMetricReader(config: { otlp: OtlpConfig; metrics: MetricsConfig }): MetricReader {
  const url = metricsUrl(config);
  if (!url)
    throw new ExporterConfigError(
      'metrics.otlp needs otlp.endpoint (--otlp-endpoint, OTEL_EXPORTER_OTLP_ENDPOINT) or metrics.otlpEndpoint (OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)',
    );
  const otlp = config.otlp;
  const options = otlpExporterOptions(otlp, url);
  const exporter = otlp.protocol === 'http/json' ? new JsonMetricExporter(options) : new ProtoMetricExporter(options);
  const interval = config.metrics.otlpIntervalMs;
  return new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: interval,
    exportTimeoutMillis: Math.min(interval, otlp.timeoutMs),
  });
}
