/**
 * The resource every record carries: the service and the host it describes.
 *
 * Precedence for service.name: OTEL_SERVICE_NAME / service.name key > service.name in the
 * resource attributes > "cnproc-otel". Attributes from OTEL_RESOURCE_ATTRIBUTES (or the
 * resource.attributes key) override the detected host attributes. Kubernetes node and pod come
 * from the downward-API variables the DaemonSet sets (K8S_NODE_NAME, K8S_POD_NAME, ...).
 */
import { readFileSync } from 'node:fs';
import { arch, hostname, release } from 'node:os';
import type { AttributeValue } from '@opentelemetry/api';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';

/** Parses "k=v,k2=v2" with percent-encoded values (the W3C baggage-like OTEL_* format). */
export function parseKeyValueList(text: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`${what}: "${part.trim()}" is not key=value`);
    const key = part.slice(0, eq).trim();
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw new Error(`${what}: the value of "${key}" is not valid percent-encoding`);
    }
    out[key] = value;
  }
  return out;
}

/** semconv host.arch values for Node's process.arch names. */
const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm32', ia32: 'x86', ppc64: 'ppc64', s390x: 's390x' };

function readTrim(path: string): string | undefined {
  try {
    const t = readFileSync(path, 'utf8').trim();
    return t === '' ? undefined : t;
  } catch {
    return undefined;
  }
}

function osDescription(): string | undefined {
  const text = readTrim('/etc/os-release');
  const m = text ? /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text) : null;
  return m ? m[1] : undefined;
}

export interface ResourceOptions {
  serviceName: string;
  serviceVersion: string;
  /** "k=v,..." from config / OTEL_RESOURCE_ATTRIBUTES. */
  extraAttributes: string;
  bootId: string;
  env?: NodeJS.ProcessEnv;
}

/** The host attributes this agent detects itself. */
export function hostAttributes(bootId: string, env: NodeJS.ProcessEnv = process.env): Record<string, AttributeValue> {
  const a: Record<string, AttributeValue> = {
    'host.name': hostname(),
    'host.arch': ARCH[arch()] ?? arch(),
    'os.type': 'linux',
    'os.version': release(),
    'cnproc.boot.id': bootId,
  };
  const machineId = readTrim('/etc/machine-id');
  if (machineId) a['host.id'] = machineId;
  const desc = osDescription();
  if (desc) a['os.description'] = desc;
  const k8s: Array<[string, string]> = [
    ['K8S_NODE_NAME', 'k8s.node.name'],
    ['K8S_POD_NAME', 'k8s.pod.name'],
    ['K8S_POD_UID', 'k8s.pod.uid'],
    ['K8S_NAMESPACE_NAME', 'k8s.namespace.name'],
    ['K8S_CLUSTER_NAME', 'k8s.cluster.name'],
  ];
  for (const [variable, key] of k8s) {
    const v = env[variable];
    if (v) a[key] = v;
  }
  return a;
}

export function buildResource(o: ResourceOptions): Resource {
  const extra = parseKeyValueList(o.extraAttributes, 'resource attributes');
  const host = hostAttributes(o.bootId, o.env);
  const attrs: Record<string, AttributeValue> = { ...host, ...extra };
  attrs['service.name'] = o.serviceName || extra['service.name'] || 'cnproc-otel';
  attrs['service.version'] = o.serviceVersion;
  // One agent per host: the machine id identifies the instance unless the operator set one.
  attrs['service.instance.id'] = extra['service.instance.id'] ?? (host['host.id'] as string | undefined) ?? hostname();
  return resourceFromAttributes(attrs);
}
