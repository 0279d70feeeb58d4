/**
 * One OTLP resource per observed workload. A resource says what the telemetry describes: for a
 * process event that is the container (or the host) the process ran in, not the agent. Backends
 * index resources (Loki makes k8s.namespace.name, k8s.pod.name, container.name … stream labels) and
 * the collector's k8sattributes processor reads only resource attributes and never overwrites a key
 * that is set: a single resource carrying the agent's own pod would file every process under the
 * agent's pod and could not be repaired downstream.
 *
 * - Workload resource: the host attributes, plus container.id, k8s.pod.uid and the names
 *   (workloadAttributes in attributes.ts). One Resource object per workload, so the OTLP encoders
 *   (the fast one and the stock ones group by resource identity) write one ResourceLogs/ResourceSpans
 *   per workload per request.
 * - Host resource: the host attributes only, for host processes.
 * - The agent's resource (its own records, metrics) stays as configured, with its own pod identity.
 *
 * "Host attributes" are the agent's resource without what identifies the agent's own workload:
 * k8s.* other than k8s.node.* and k8s.cluster.*, and container.*.
 */
import type { Context } from '@opentelemetry/api';
import type { AnyValue, LogAttributes } from '@opentelemetry/api-logs';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import type { LogRecordProcessor, SdkLogRecord } from '@opentelemetry/sdk-logs';
import type { ProcessInfo } from '../process/model.js';
import type { Workload, WorkloadResolver } from '../process/workload.js';
import { workloadAttributes } from './attributes.js';
import { type MaybeSplit, recordAttribute } from './split-attributes.js';

/** Keys of the agent's resource that describe the agent's own pod or container, not the host. */
export function isAgentWorkloadKey(key: string): boolean {
  if (key.startsWith('container.')) return true;
  return key.startsWith('k8s.') && !key.startsWith('k8s.node.') && !key.startsWith('k8s.cluster.');
}

export class WorkloadResources {
  /** The resource of host processes. */
  readonly host: Resource;
  private readonly base: Record<string, AnyValue>;
  private readonly byWorkload = new WeakMap<Workload, Resource>();

  constructor(
    agent: Resource,
    private readonly resolver: WorkloadResolver,
  ) {
    const base: Record<string, AnyValue> = {};
    for (const [k, v] of Object.entries(agent.attributes)) if (!isAgentWorkloadKey(k) && v !== undefined) base[k] = v as AnyValue;
    this.base = base;
    this.host = resourceFromAttributes(base as Record<string, string>, { schemaUrl: agent.schemaUrl });
  }

  /** The workload's resource (made once per workload), or the host's. */
  of(w: Workload | null | undefined): Resource {
    if (w === null || w === undefined) return this.host;
    let r = this.byWorkload.get(w);
    if (r === undefined) {
      r = resourceFromAttributes({ ...this.base, ...workloadAttributes(w) } as Record<string, string>, { schemaUrl: this.host.schemaUrl });
      this.byWorkload.set(w, r);
    }
    return r;
  }

  /** For spans: the resource of a process's workload. */
  forProcess(p: ProcessInfo): Resource {
    return this.of(this.resolver.of(p));
  }

  /**
   * For log records, which carry only the container id: the workload the enricher resolved for it
   * (a cache hit). undefined for records that are not about an observed process (the agent's own).
   */
  forRecord(record: { readonly attributes: LogAttributes } & MaybeSplit): Resource | undefined {
    const name = recordAttribute(record, 'cnproc.event.name');
    if (typeof name !== 'string' || !name.startsWith('process.')) return undefined;
    const id = recordAttribute(record, 'container.id');
    if (typeof id !== 'string') return this.host;
    return this.of(this.resolver.byId(id));
  }
}

/**
 * Gives each process-event record its workload's resource. First in the provider's processors, so
 * every exporter after it (console, OTLP, the spool) sees the record under its workload. The SDK
 * takes a record's resource from its provider; LogRecordImpl keeps it in a plain property, which is
 * what this sets (once, before any exporter reads the record).
 */
export class WorkloadResourceProcessor implements LogRecordProcessor {
  constructor(private readonly resources: WorkloadResources) {}

  onEmit(record: SdkLogRecord, _context?: Context): void {
    const r = this.resources.forRecord(record);
    if (r !== undefined) (record as { resource: Resource }).resource = r;
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}
