/**
 * packaging/collector: the OpenTelemetry Collector configurations of the fleet path parse, every
 * pipeline references components that are defined (and every defined component is used), the
 * component names are the current ones, persistent queues use an enabled file_storage extension,
 * and the gateway writes logs to Loki (/otlp) and Elasticsearch (/_otlp) and traces to Jaeger.
 * Also: the deployment docs name only files that exist.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const DIR = join(REPO, 'packaging/collector');

// biome-ignore lint/suspicious/noExplicitAny: collector configs are free-form YAML, checked key by key
type Obj = Record<string, any>;

const KINDS = ['receivers', 'processors', 'exporters', 'connectors', 'extensions'] as const;

/** Component types in use, by kind: current names only (no deprecated aliases). */
const CURRENT: Record<string, string[]> = {
  receivers: ['otlp'],
  processors: ['memory_limiter', 'resource', 'transform', 'filter', 'attributes', 'k8sattributes'],
  exporters: ['otlp_http', 'otlp_grpc', 'debug', 'load_balancing', 'elasticsearch'],
  extensions: ['file_storage', 'health_check', 'pprof'],
  connectors: [],
};
const DEPRECATED = ['otlphttp', 'loadbalancing', 'logging', 'resourcedetection'];

function load(file: string): Obj {
  const docs = parseAllDocuments(readFileSync(join(DIR, file), 'utf8'));
  assert.equal(docs.length, 1, `${file}: one YAML document`);
  const doc = docs[0] as (typeof docs)[number];
  assert.deepEqual(doc.errors, [], `${file}: YAML errors`);
  return doc.toJS() as Obj;
}

const type = (id: string) => id.split('/')[0] as string;
const configs = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

/** Every string value in the tree, for the placeholder syntax check. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
  return out;
}

describe('collector configurations', () => {
  test('agent and gateway configurations exist', () => {
    assert.deepEqual(configs, ['agent.yaml', 'gateway.yaml']);
  });

  for (const file of configs) {
    test(`${file}: pipelines reference defined components, all defined components are used`, () => {
      const cfg = load(file);
      const pipelines = cfg.service?.pipelines as Obj;
      assert.ok(pipelines && Object.keys(pipelines).length > 0, 'service.pipelines');
      const used = new Map<string, Set<string>>(KINDS.map((k) => [k, new Set<string>()]));
      for (const [name, p] of Object.entries(pipelines)) {
        assert.match(name, /^(logs|traces|metrics)(\/[\w-]+)?$/, `pipeline name ${name}`);
        assert.ok((p.receivers ?? []).length > 0, `${name}: receivers`);
        assert.ok((p.exporters ?? []).length > 0, `${name}: exporters`);
        for (const kind of ['receivers', 'processors', 'exporters'] as const) {
          for (const id of p[kind] ?? []) {
            assert.ok(cfg[kind] && id in cfg[kind], `${name}: ${kind.slice(0, -1)} ${id} is not defined`);
            used.get(kind)?.add(id);
          }
        }
        if ((p.processors ?? []).length > 0) assert.equal(p.processors[0], 'memory_limiter', `${name}: memory_limiter first`);
      }
      for (const id of cfg.service.extensions ?? []) {
        assert.ok(cfg.extensions && id in cfg.extensions, `extension ${id} is not defined`);
        used.get('extensions')?.add(id);
      }
      for (const kind of KINDS) {
        for (const id of Object.keys(cfg[kind] ?? {})) {
          assert.ok(used.get(kind)?.has(id), `${kind.slice(0, -1)} ${id} is defined but not used`);
          assert.ok(!DEPRECATED.includes(type(id)), `${id}: deprecated component name`);
          assert.ok(CURRENT[kind]?.includes(type(id)), `${kind.slice(0, -1)} ${id}: not a known current component name`);
        }
      }
      // Extensions referenced from exporters (queue storage, auth) must be enabled.
      for (const [id, e] of Object.entries((cfg.exporters ?? {}) as Obj)) {
        const storage = e?.sending_queue?.storage;
        if (storage) assert.ok(cfg.service.extensions.includes(storage), `${id}: storage ${storage} is not enabled`);
        const auth = e?.auth?.authenticator;
        if (auth) assert.ok(cfg.service.extensions.includes(auth), `${id}: authenticator ${auth} is not enabled`);
      }
      // Environment placeholders use the collector's ${env:NAME} / ${env:NAME:-default} syntax.
      for (const s of strings(cfg)) {
        for (const m of s.matchAll(/\$\{([^}]*)\}/g)) assert.match(m[1] as string, /^env:[A-Z_][A-Z0-9_]*(:-.*)?$/, `placeholder ${m[0]}`);
        assert.doesNotMatch(s, /\$[A-Z_]/, `bare shell variable in ${s}`);
      }
    });
  }

  test('agent.yaml: OTLP from cnproc-otel on loopback, persistent queue, balanced over the gateways', () => {
    const cfg = load('agent.yaml');
    assert.equal(cfg.receivers.otlp.protocols.http.endpoint, '127.0.0.1:4318', 'the agent default endpoint in /etc/default/cnproc-otel');
    const exporters = Object.entries(cfg.exporters as Obj);
    assert.equal(exporters.length, 1);
    const [id, gw] = exporters[0] as [string, Obj];
    assert.equal(type(id), 'otlp_grpc');
    assert.match(gw.endpoint, /^dns:\/\/\//, 'resolve every gateway address');
    assert.equal(gw.balancer_name, 'round_robin');
    assert.equal(type(gw.sending_queue.storage), 'file_storage');
    assert.equal(gw.retry_on_failure.enabled, true);
    const envDefault = readFileSync(join(REPO, 'packaging/deb/default'), 'utf8');
    assert.match(envDefault, /^OTEL_EXPORTER_OTLP_ENDPOINT=http:\/\/127\.0\.0\.1:4318$/m);
  });

  test('gateway.yaml: logs to Loki /otlp and Elasticsearch /_otlp, traces to Jaeger, every exporter queued on disk', () => {
    const cfg = load('gateway.yaml');
    assert.ok(cfg.receivers.otlp.protocols.grpc && cfg.receivers.otlp.protocols.http, 'OTLP gRPC (agents) and HTTP (cnproc-otel)');
    const pipelines = cfg.service.pipelines as Obj;
    const endpoint = (id: string) => String(cfg.exporters[id].endpoint).replace(/^\$\{env:\w+:-(.*)\}$/, '$1');
    const logs = pipelines.logs.exporters as string[];
    const loki = logs.find((id) => /loki/.test(id)) as string;
    const elastic = logs.find((id) => /elastic/.test(id)) as string;
    assert.ok(loki && elastic, 'logs go to Loki and Elasticsearch');
    assert.equal(type(loki), 'otlp_http');
    assert.match(endpoint(loki), /\/otlp$/, 'Loki native OTLP endpoint');
    assert.equal(type(elastic), 'otlp_http');
    assert.match(endpoint(elastic), /\/_otlp$/, 'Elasticsearch OTLP endpoint');
    const traces = pipelines.traces.exporters as string[];
    assert.ok(
      traces.some((id) => /jaeger/.test(id)),
      'traces go to Jaeger',
    );
    for (const [id, e] of Object.entries(cfg.exporters as Obj)) {
      assert.equal(type(e.sending_queue?.storage ?? ''), 'file_storage', `${id}: persistent queue`);
      assert.equal(e.sending_queue.enabled, true, `${id}: queue enabled`);
    }
    // Workload metadata: k8sattributes on logs and traces, associated by the resource's
    // container.id or k8s.pod.uid (never the connection: agents run with hostNetwork).
    for (const p of ['logs', 'traces']) assert.ok((pipelines[p].processors as string[]).includes('k8sattributes'), `${p}: k8sattributes`);
    const k8s = cfg.processors.k8sattributes as Obj;
    assert.deepEqual(
      (k8s.pod_association as Obj[]).map((a) => (a.sources as Obj[]).map((s) => `${s.from}:${s.name}`)),
      [['resource_attribute:container.id'], ['resource_attribute:k8s.pod.uid']],
    );
    for (const m of ['k8s.pod.name', 'k8s.namespace.name', 'k8s.deployment.name', 'k8s.container.name'])
      assert.ok((k8s.extract.metadata as string[]).includes(m), `extracts ${m}`);
    assert.ok(
      (k8s.extract.labels as Obj[]).some((l) => l.from === 'pod'),
      'pod labels',
    );
    // The Kubernetes DaemonSet sends to the gateway's OTLP/HTTP port.
    assert.match(readFileSync(join(REPO, 'packaging/kubernetes/configmap.yaml'), 'utf8'), /endpoint: http:\/\/otel-gateway\.[\w.-]+:4318/);
  });

  test('docs name only files that exist', () => {
    for (const doc of ['docs/deploy.md', 'packaging/README.md']) {
      const text = readFileSync(join(REPO, doc), 'utf8');
      const paths = new Set([...text.matchAll(/\b((?:packaging|config|docs)\/[\w./-]*\w)/g)].map((m) => m[1] as string));
      assert.ok(paths.size > 0, `${doc} names files`);
      for (const p of paths) {
        if (p.startsWith('packaging/out')) continue; // build output, absent from a clean checkout
        assert.ok(existsSync(join(REPO, p)), `${doc} names ${p}, which does not exist`);
      }
      for (const m of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        const target = m[1] as string;
        if (/^[a-z]+:/.test(target)) continue;
        assert.ok(existsSync(join(REPO, dirname(doc), target)), `${doc} links to ${target}, which does not exist`);
      }
    }
  });
});
