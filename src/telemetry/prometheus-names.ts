/**
 * Prometheus names carry their unit (`_bytes`, `_seconds`), as the OpenTelemetry-to-Prometheus
 * compatibility rules ask; the JS Prometheus exporter leaves that out, so the OTLP metric
 * `cnproc.memory.rss` (unit By) would be served as `cnproc_memory_rss`. The instruments keep their
 * OpenTelemetry names (units live in the unit field over OTLP); only the /metrics view is renamed.
 */
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';

/** UCUM unit → Prometheus base-unit suffix. */
const SUFFIXES: Readonly<Record<string, string>> = { By: 'bytes', s: 'seconds' };

function renamed(m: MetricData): MetricData {
  const suffix = SUFFIXES[m.descriptor.unit];
  if (!suffix || m.descriptor.name.endsWith(`.${suffix}`) || m.descriptor.name.endsWith(`_${suffix}`)) return m;
  return { ...m, descriptor: { ...m.descriptor, name: `${m.descriptor.name}.${suffix}`, unit: suffix } } as MetricData;
}

/** A copy of `rm` whose metrics with a base unit end in that unit's Prometheus suffix. */
export function withUnitSuffixes(rm: ResourceMetrics): ResourceMetrics {
  return { ...rm, scopeMetrics: rm.scopeMetrics.map((sm) => ({ ...sm, metrics: sm.metrics.map(renamed) })) };
}
