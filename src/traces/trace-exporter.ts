/**
 * The OTLP/HTTP span exporter from configuration: the logs' collector, headers, protocol,
 * compression, timeout and TLS (always verified), at /v1/traces unless traces.endpoint says
 * otherwise.
 */
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { OtlpConfig } from '../otel/config.js';
import { ExporterConfigError, otlpExporterOptions, signalUrl } from '../otel/otlp-exporter.js';
import type { TracesConfig } from './config.js';

/** traces.endpoint as is, else otlp.endpoint + /v1/traces (the OTLP spec rule); null if neither. */
export function tracesUrl(otlp: OtlpConfig, traces: TracesConfig): string | null {
  return signalUrl(traces.endpoint, otlp.endpoint, 'traces');
}

/** Throws ExporterConfigError for a missing endpoint, an unreadable header file or certificate. */
export function createTraceExporter(otlp: OtlpConfig, traces: TracesConfig): SpanExporter {
  const url = tracesUrl(otlp, traces);
  if (!url)
    throw new ExporterConfigError(
      'traces.enabled needs otlp.endpoint (--otlp-endpoint, OTEL_EXPORTER_OTLP_ENDPOINT) or traces.endpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)',
    );
  const options = otlpExporterOptions(otlp, url);
  return otlp.protocol === 'http/json' ? new JsonTraceExporter(options) : new ProtoTraceExporter(options);
}
