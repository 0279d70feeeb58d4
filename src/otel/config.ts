/**
 * The sections of records and their export: exporter, otlp, batch, service, resource, console.
 */

import { intFormat, keyValueList, oneOf, urlOrEmpty } from '../config/formats.js';
import type { ConfigSection } from '../config/section.js';
import { parseKeyValueList } from './resource.js';

export const CONSOLE_FORMATS = ['auto', 'pretty', 'json'] as const;
export type ConsoleFormat = (typeof CONSOLE_FORMATS)[number];
export const EXPORTER_KINDS = ['auto', 'console', 'otlp', 'console,otlp'] as const;
export type ExporterKinds = (typeof EXPORTER_KINDS)[number];
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export interface ExporterConfig {
  kinds: ExporterKinds;
}

export const exporterSection: ConfigSection<ExporterConfig> = {
  reload: 'restart',
  keys: {
    kinds: {
      doc: 'Where records go: console, otlp, or both (console,otlp). auto: otlp when an endpoint is configured, else console.',
      format: oneOf('exporter-kinds', EXPORTER_KINDS),
      default: 'auto',
      env: 'CNPROC_OTEL_EXPORTER',
      arg: 'exporter',
    },
  },
};

export interface OtlpConfig {
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
}

export const otlpSection: ConfigSection<OtlpConfig> = {
  reload: 'restart',
  keys: {
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
      format: keyValueList('otlp-headers', (text) => parseKeyValueList(text, 'otlp.headers')),
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
};

export interface BatchConfig {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMs: number;
  exportTimeoutMs: number;
}

export const batchSection: ConfigSection<BatchConfig> = {
  reload: 'restart',
  keys: {
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
};

export interface ServiceConfig {
  name: string;
}

export const serviceSection: ConfigSection<ServiceConfig> = {
  reload: 'restart',
  keys: {
    name: {
      doc: 'service.name of the resource. Empty: service.name from resource attributes, else cnproc-otel.',
      format: String,
      default: '',
      env: 'OTEL_SERVICE_NAME',
    },
  },
};

export interface ResourceConfig {
  attributes: string;
}

export const resourceSection: ConfigSection<ResourceConfig> = {
  reload: 'restart',
  keys: {
    attributes: {
      doc: 'Extra resource attributes, "key=value,key2=value2" (as OTEL_RESOURCE_ATTRIBUTES), e.g. deployment.environment.name=prod.',
      format: keyValueList('resource-attributes', (text) => parseKeyValueList(text, 'resource attributes')),
      default: '',
      env: 'OTEL_RESOURCE_ATTRIBUTES',
    },
  },
};

export interface ConsoleConfig {
  format: ConsoleFormat;
}

export const consoleSection: ConfigSection<ConsoleConfig> = {
  reload: 'restart',
  keys: {
    format: {
      doc: 'Terminal output: pretty (one readable line per event), json (one JSON object per line), or auto (pretty on a TTY, json otherwise).',
      format: oneOf('console-format', CONSOLE_FORMATS),
      default: 'auto',
      env: 'CNPROC_OTEL_CONSOLE_FORMAT',
      arg: 'console-format',
    },
  },
};
