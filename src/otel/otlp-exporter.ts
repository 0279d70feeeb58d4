/**
 * The OTLP/HTTP log exporter from configuration: protocol, endpoint, headers (inline and from a
 * file), gzip, timeout, and TLS with a custom CA and client certificate. TLS is always verified.
 *
 * http/protobuf uses FastProtoLogExporter: the stock exporter's transport with a faster encoder.
 */
import { readFileSync } from 'node:fs';
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { CompressionAlgorithm, OTLPExporterBase, type OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { LogsExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { ConfigError } from '../config/errors.js';
import type { OtlpConfig } from './config.js';
import { FastProtobufLogsSerializer } from './fast-logs-serializer.js';
import { parseKeyValueList } from './resource.js';

/**
 * OTLP/HTTP protobuf log exporter built exactly as @opentelemetry/exporter-logs-otlp-proto 0.223.1's
 * OTLPLogExporter (same options, OTEL_EXPORTER_OTLP_* environment, retries, gzip, headers, agent/TLS,
 * timeouts, concurrency limit, self-observability metrics), with fast-logs-serializer in place of
 * ProtobufLogsSerializer. The response (partial success) is decoded by the stock decoder.
 */
export class FastProtoLogExporter extends OTLPExporterBase<ReadableLogRecord[]> implements LogRecordExporter {
  constructor(config: OTLPExporterNodeConfigBase = {}) {
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions(config, 'LOGS', 'v1/logs', { 'Content-Type': 'application/x-protobuf' }),
        FastProtobufLogsSerializer,
        // otel.component.type of the stock proto exporter (its constant is not exported)
        'otlp_http_log_exporter',
        LogsExporterMetricsHelper,
        config.selfObsMeterProvider,
      ),
    );
  }
}

/** An exporter setting the operator must fix (endpoint, header file, certificate). */
export class ExporterConfigError extends ConfigError {
  override readonly name = 'ExporterConfigError';
}

/**
 * A signal's URL by the OTLP spec rule: the signal-specific endpoint as is, else the base endpoint
 * + /v1/<signal>; null if neither is set.
 */
export function signalUrl(specific: string, base: string, signal: 'logs' | 'traces' | 'metrics'): string | null {
  if (specific) return specific;
  if (base) return `${base.replace(/\/+$/, '')}/v1/${signal}`;
  return null;
}

/** The logs URL: otlp.logsEndpoint as is, else otlp.endpoint + /v1/logs; null if neither. */
export function logsUrl(otlp: OtlpConfig): string | null {
  return signalUrl(otlp.logsEndpoint, otlp.endpoint, 'logs');
}

/** "Name: value" lines (or name=value); blank lines and # comments are skipped. */
export function parseHeadersFile(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*[:=]\s*(.*)$/.exec(line);
    if (!m) throw new ExporterConfigError(`${file}:${i + 1}: not a header line (expected "Name: value")`);
    out[m[1] as string] = m[2] as string;
  });
  return out;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ExporterConfigError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

export function otlpHeaders(otlp: OtlpConfig): Record<string, string> {
  let headers: Record<string, string>;
  try {
    headers = parseKeyValueList(otlp.headers, 'otlp.headers');
  } catch (err) {
    throw new ExporterConfigError((err as Error).message);
  }
  if (otlp.headersFile) {
    let text: string;
    try {
      text = readFileSync(otlp.headersFile, 'utf8');
    } catch (err) {
      throw new ExporterConfigError(
        `cannot read otlp.headersFile ${otlp.headersFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    headers = { ...headers, ...parseHeadersFile(text, otlp.headersFile) };
  }
  return headers;
}

/** The logs URL, or a configuration error naming the settings that give one. */
export function requireLogsUrl(otlp: OtlpConfig): string {
  const url = logsUrl(otlp);
  if (!url)
    throw new ExporterConfigError(
      'the otlp exporter needs otlp.endpoint (--otlp-endpoint, OTEL_EXPORTER_OTLP_ENDPOINT) or otlp.logsEndpoint',
    );
  return url;
}

/** TLS material from configuration (read now, so a missing file is a start-up error); verification is always on. */
export function otlpTls(otlp: OtlpConfig): { ca?: Buffer; key?: Buffer; cert?: Buffer; rejectUnauthorized: true } {
  if ((otlp.clientKey === '') !== (otlp.clientCertificate === '')) {
    throw new ExporterConfigError('mTLS needs both otlp.clientKey and otlp.clientCertificate');
  }
  const tls: { ca?: Buffer; key?: Buffer; cert?: Buffer; rejectUnauthorized: true } = { rejectUnauthorized: true };
  if (otlp.certificate) tls.ca = readPem(otlp.certificate, 'otlp.certificate');
  if (otlp.clientKey) tls.key = readPem(otlp.clientKey, 'otlp.clientKey');
  if (otlp.clientCertificate) tls.cert = readPem(otlp.clientCertificate, 'otlp.clientCertificate');
  return tls;
}

/**
 * Options for the stock OTLP/HTTP exporters (logs, traces, metrics) from the otlp.* settings: one
 * place for headers, compression, timeout and verified TLS. Throws ExporterConfigError.
 */
export function otlpExporterOptions(otlp: OtlpConfig, url: string): OTLPExporterNodeConfigBase {
  return {
    url,
    headers: otlpHeaders(otlp),
    compression: otlp.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
    timeoutMillis: otlp.timeoutMs,
    httpAgentOptions: { keepAlive: true, ...otlpTls(otlp) },
  };
}

/**
 * The stock-transport OTLP exporter (SDK retries inside timeoutMs, then the batch is gone): for
 * host programs that want a plain LogRecordExporter. The agent itself uses the spooling delivery
 * (src/delivery/otlp-delivery.ts).
 */
export function createOtlpExporter(otlp: OtlpConfig): LogRecordExporter {
  const options = otlpExporterOptions(otlp, requireLogsUrl(otlp));
  return otlp.protocol === 'http/json' ? new JsonExporter(options) : new FastProtoLogExporter(options);
}
