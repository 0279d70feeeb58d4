/**
 * packaging/kubernetes: every manifest parses, the kustomization lists them all, and the fields
 * the agent depends on are set: host PID and network namespaces, cluster DNS, the minimal
 * security context, downward-API variables, resources, probes on the self-telemetry port, the
 * ConfigMap (a valid agent configuration) mounted at /etc/cnproc-otel, tolerations for every
 * node, and a service account without a token.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { runCli } from '../helpers/cli.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const DIR = join(REPO, 'packaging/kubernetes');
const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
const NS = 'cnproc-otel';

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML, checked field by field
type Obj = Record<string, any>;

interface Manifest {
  file: string;
  doc: Obj;
}

function load(): Manifest[] {
  const out: Manifest[] = [];
  for (const file of readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    for (const d of parseAllDocuments(readFileSync(join(DIR, file), 'utf8'))) {
      assert.deepEqual(d.errors, [], `${file}: YAML errors`);
      assert.deepEqual(d.warnings, [], `${file}: YAML warnings`);
      const doc = d.toJS() as Obj | null;
      if (doc !== null) out.push({ file, doc });
    }
  }
  return out;
}

const manifests = load();
const objects = manifests.filter((m) => m.doc.kind !== 'Kustomization');
function find(kind: string): Obj {
  const found = objects.filter((m) => m.doc.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return (found[0] as Manifest).doc;
}

/** CPU in millicores, memory in bytes. */
function quantity(q: string | number): number {
  const s = String(q);
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(s);
  assert.ok(m, `quantity ${s}`);
  const n = Number(m[1]);
  const unit = m[2] ?? '';
  const factor: Record<string, number> = {
    '': 1,
    m: 0.001,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  return n * (factor[unit] as number);
}

const tmp = mkdtempSync(join(tmpdir(), 'cnproc-k8s-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('kubernetes manifests', () => {
  const ds = find('DaemonSet');
  const pod = ds.spec.template.spec as Obj;
  const containers = pod.containers as Obj[];
  const c = containers[0] as Obj;
  const configMap = find('ConfigMap');
  const agentConfig = parse(configMap.data['config.yaml']) as Obj;

  test('every object is well-formed, in the namespace, and in the kustomization', () => {
    for (const { file, doc } of objects) {
      assert.ok(typeof doc.apiVersion === 'string' && typeof doc.kind === 'string', `${file}: apiVersion and kind`);
      assert.ok(doc.metadata?.name, `${file}: metadata.name`);
      if (doc.kind !== 'Namespace') assert.equal(doc.metadata.namespace, NS, `${file}: namespace`);
      assert.equal(doc.metadata.labels?.['app.kubernetes.io/name'], 'cnproc-otel', `${file}: name label`);
    }
    const kustomization = manifests.find((m) => m.doc.kind === 'Kustomization');
    assert.ok(kustomization, 'kustomization.yaml');
    const listed = [...(kustomization.doc.resources as string[])].sort();
    const files = [...new Set(objects.map((m) => m.file))].sort();
    assert.deepEqual(listed, files, 'the kustomization lists every manifest');
    assert.deepEqual(objects.map((m) => m.doc.kind).sort(), ['ConfigMap', 'DaemonSet', 'Namespace', 'ResourceQuota', 'ServiceAccount']);
  });

  test('namespace admits privileged pods (hostPID/hostNetwork exceed baseline)', () => {
    const ns = find('Namespace');
    assert.equal(ns.metadata.name, NS);
    assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'privileged');
  });

  test('service account: no API token', () => {
    const sa = find('ServiceAccount');
    assert.equal(sa.automountServiceAccountToken, false);
    assert.equal(pod.serviceAccountName, sa.metadata.name);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.ok(!objects.some((m) => /Role/.test(m.doc.kind)), 'no RBAC: the agent never calls the API');
  });

  test('daemonset: host PID and network namespaces, cluster DNS, every node', () => {
    assert.equal(ds.apiVersion, 'apps/v1');
    assert.deepEqual(ds.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'cnproc-otel' });
    for (const [k, v] of Object.entries(ds.spec.selector.matchLabels as Obj)) assert.equal(ds.spec.template.metadata.labels[k], v);
    assert.equal(pod.hostPID, true);
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.dnsPolicy, 'ClusterFirstWithHostNet');
    assert.ok(
      (pod.tolerations as Obj[]).some((t) => t.operator === 'Exists' && t.key === undefined && t.effect === undefined),
      'tolerates every taint',
    );
    assert.equal(pod.nodeSelector['kubernetes.io/os'], 'linux');
    assert.ok(pod.terminationGracePeriodSeconds >= 35, 'time to flush (batch.exportTimeoutMs is 30 s)');
    assert.equal(containers.length, 1);
  });

  test('container: image version, command line', () => {
    assert.match(c.image, new RegExp(`:${PKG.version.replace(/\./g, '\\.')}$`), 'image tag is the package version');
    assert.deepEqual(c.args, ['--config', '/etc/cnproc-otel/config.yaml']);
    assert.equal(c.command, undefined, 'the image entrypoint runs the agent');
  });

  test('security context: root with only the four capabilities, nothing else', () => {
    const sc = c.securityContext as Obj;
    const uid = sc.runAsUser ?? pod.securityContext?.runAsUser;
    assert.equal(uid, 0, 'root: container runtimes give non-root users no effective capabilities');
    assert.notEqual(sc.privileged, true);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.deepEqual(sc.capabilities.drop, ['ALL']);
    assert.deepEqual([...sc.capabilities.add].sort(), ['DAC_READ_SEARCH', 'NET_ADMIN', 'SYS_NICE', 'SYS_PTRACE']);
    assert.equal(pod.hostIPC, undefined);
    assert.notEqual(pod.hostUsers, false, 'a user namespace would make the proc connector unavailable');
    assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
  });

  test('downward API: the variables the agent turns into k8s.* resource attributes', () => {
    const env = new Map((c.env as Obj[]).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
    assert.equal(env.get('K8S_NODE_NAME'), 'spec.nodeName');
    assert.equal(env.get('K8S_POD_NAME'), 'metadata.name');
    assert.equal(env.get('K8S_POD_UID'), 'metadata.uid');
    assert.equal(env.get('K8S_NAMESPACE_NAME'), 'metadata.namespace');
  });

  test('resources: requests and limits, requests within limits', () => {
    const { requests, limits } = c.resources as Obj;
    for (const r of ['cpu', 'memory']) {
      assert.ok(requests?.[r] !== undefined && limits?.[r] !== undefined, `${r} request and limit`);
      assert.ok(quantity(requests[r]) <= quantity(limits[r]), `${r} request <= limit`);
    }
    assert.ok(quantity(limits.memory) >= 256 * 2 ** 20, 'room for the process table and export queue');
  });

  test('probes: /healthz and /readyz/capture on the self-telemetry listener', () => {
    const port = agentConfig.metrics?.port ?? 9464;
    const host = agentConfig.metrics?.host ?? '127.0.0.1';
    assert.equal(port, 9464);
    for (const [probe, path] of [
      ['livenessProbe', '/healthz'],
      ['readinessProbe', '/readyz/capture'],
      ['startupProbe', '/healthz'],
    ] as const) {
      const get = c[probe]?.httpGet as Obj;
      assert.ok(get, `${probe}.httpGet`);
      assert.equal(get.path, path, `${probe} path`);
      assert.equal(get.port, port, `${probe} port`);
      assert.equal(get.host, host, `${probe} host: the listener is on loopback, shared through hostNetwork`);
    }
    assert.ok((c.ports as Obj[]).some((p) => p.containerPort === port));
  });

  test('volumes: config at /etc/cnproc-otel, spool, host identity read-only', () => {
    const mounts = new Map((c.volumeMounts as Obj[]).map((m) => [m.mountPath, m]));
    const volumes = new Map((pod.volumes as Obj[]).map((v) => [v.name, v]));
    const config = mounts.get('/etc/cnproc-otel');
    assert.ok(config?.readOnly, 'config mounted read-only');
    assert.equal(volumes.get(config.name)?.configMap?.name, configMap.metadata.name);
    const spool = mounts.get('/var/lib/cnproc-otel');
    assert.ok(spool && !spool.readOnly, 'spool writable');
    for (const file of ['/etc/machine-id', '/etc/passwd', '/etc/group']) {
      const m = mounts.get(file);
      assert.ok(m?.readOnly, `${file} from the host, read-only`);
      assert.deepEqual(volumes.get(m.name)?.hostPath, { path: file, type: 'File' });
    }
    for (const m of mounts.values()) {
      const hostPath = volumes.get(m.name)?.hostPath;
      if (hostPath && !m.readOnly)
        assert.equal(m.mountPath, '/var/lib/cnproc-otel', `only the spool is a writable host path, not ${m.mountPath}`);
      assert.ok(volumes.has(m.name), `volume ${m.name}`);
    }
  });

  test('scheduling: node-critical priority (admitted by the namespace quota), the image’s architecture only', () => {
    assert.equal(pod.priorityClassName, 'system-node-critical');
    const quota = find('ResourceQuota');
    assert.deepEqual(quota.spec.scopeSelector.matchExpressions, [
      { scopeName: 'PriorityClass', operator: 'In', values: ['system-node-critical'] },
    ]);
    const dockerfile = readFileSync(join(REPO, 'packaging/container/Dockerfile'), 'utf8');
    assert.match(dockerfile, /--platform linux\/amd64/, 'the image is built for amd64');
    assert.equal(pod.nodeSelector['kubernetes.io/arch'], 'amd64', 'only nodes the image can run on');
  });

  test('memory request at or above the measured steady RSS (98 MiB at rest, 2026-11-30)', () => {
    assert.ok(quantity((c.resources as Obj).requests.memory) >= 98 * 2 ** 20);
  });

  test('readiness does not depend on the gateway: /readyz/capture', () => {
    assert.equal(c.readinessProbe.httpGet.path, '/readyz/capture');
  });

  test('runtime state directories mounted read-only at their own paths (container names)', () => {
    const mounts = new Map((c.volumeMounts as Obj[]).map((m) => [m.mountPath, m]));
    const volumes = new Map((pod.volumes as Obj[]).map((v) => [v.name, v]));
    for (const dir of ['/run/containerd', '/run/containers/storage', '/var/lib/containers/storage', '/var/lib/docker/containers']) {
      const m = mounts.get(dir);
      assert.ok(m?.readOnly, `${dir} mounted read-only`);
      assert.equal(volumes.get(m.name)?.hostPath?.path, dir, `${dir} from the host`);
    }
    assert.equal(agentConfig.process?.hostRoot ?? '', '', 'state at its own paths: no host root prefix');
  });

  test('configmap: a valid agent configuration that exports over OTLP', () => {
    const file = join(tmp, 'config.yaml');
    writeFileSync(file, configMap.data['config.yaml']);
    const r = runCli(['--check-config', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(agentConfig.exporter?.kinds, 'otlp');
    assert.match(agentConfig.otlp?.endpoint, /^https?:\/\/[^/]+:4318$/);
    assert.equal(agentConfig.metrics?.host, '127.0.0.1');
  });
});
