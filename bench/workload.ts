/**
 * `npm run bench -- workload`: what naming containers costs.
 * - A new container: WorkloadResolver.of() on first sight of each of N containers, with state in
 *   each runtime's layout (containerd bundles, CRI-O userdata config.json, podman's containers.json
 *   listing all N, docker config.v2.json), in a temporary host root.
 * - A known container: the per-record work (the enricher's of() and the resource processor's
 *   lookup), and every node:fs call counted meanwhile (fs is patched and synced into the ESM
 *   bindings the resolver imported): it must be 0.
 */
import fs, { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { WorkloadResources } from '../src/otel/workload-resource.js';
import { cgroupIdentity } from '../src/process/container.js';
import { type ProcessInfo, unknownProcess } from '../src/process/model.js';
import { WorkloadResolver } from '../src/process/workload.js';

const FS_CALLS = ['openSync', 'readSync', 'fstatSync', 'statSync', 'readFileSync', 'readdirSync', 'closeSync', 'existsSync'] as const;
let fsCalls = 0;

function countFsCalls(): void {
  const f = fs as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of FS_CALLS) {
    const orig = f[name] as (...a: unknown[]) => unknown;
    f[name] = (...a: unknown[]) => {
      fsCalls++;
      return orig(...a);
    };
  }
  syncBuiltinESMExports();
}

function put(root: string, path: string, value: unknown): void {
  const full = `${root}${path}`;
  mkdirSync(full.slice(0, full.lastIndexOf('/')), { recursive: true });
  writeFileSync(full, JSON.stringify(value));
}

const hex = (i: number, salt: number) => (i * 2654435761 + salt).toString(16).padStart(8, '0').slice(-8).repeat(8);

interface Layout {
  name: string;
  cgroup: (id: string) => string;
  write: (root: string, ids: string[]) => void;
}

const POD = '0b6f1c2e-8d4a-4f3b-9e21-7a5c3d2b1f00';
const LAYOUTS: Layout[] = [
  {
    name: 'containerd CRI (bundle config.json)',
    cgroup: (id) =>
      `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD.replace(/-/g, '_')}.slice/cri-containerd-${id}.scope`,
    write: (root, ids) => {
      ids.forEach((id, i) => {
        put(root, `/run/containerd/io.containerd.runtime.v2.task/k8s.io/${id}/config.json`, {
          ociVersion: '1.1.0',
          process: { args: ['/app'], env: Array.from({ length: 30 }, (_, j) => `VAR_${j}=value-${j}`) },
          annotations: {
            'io.kubernetes.cri.container-type': 'container',
            'io.kubernetes.cri.container-name': `c${i}`,
            'io.kubernetes.cri.image-name': 'registry.example.com/app:1.0',
            'io.kubernetes.cri.sandbox-name': `pod-${i}`,
            'io.kubernetes.cri.sandbox-namespace': 'default',
            'io.kubernetes.cri.sandbox-uid': POD,
          },
        });
      });
    },
  },
  {
    name: 'CRI-O (userdata config.json)',
    cgroup: (id) => `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD.replace(/-/g, '_')}.slice/crio-${id}.scope`,
    write: (root, ids) => {
      ids.forEach((id, i) => {
        put(root, `/run/containers/storage/overlay-containers/${id}/userdata/config.json`, {
          annotations: {
            'io.kubernetes.cri-o.ContainerType': 'container',
            'io.kubernetes.cri-o.Labels': JSON.stringify({
              'io.kubernetes.pod.name': `pod-${i}`,
              'io.kubernetes.pod.namespace': 'default',
              'io.kubernetes.pod.uid': POD,
              'io.kubernetes.container.name': `c${i}`,
            }),
            'io.kubernetes.cri-o.ImageName': 'quay.io/app:1.0',
          },
        });
      });
    },
  },
  {
    name: 'podman (containers.json of all N)',
    cgroup: (id) => `/libpod_parent/libpod-${id}`,
    write: (root, ids) => {
      const image = 'e'.repeat(64);
      put(
        root,
        '/var/lib/containers/storage/overlay-containers/containers.json',
        ids.map((id, i) => ({ id, names: [`c${i}`], image, metadata: JSON.stringify({ 'image-name': 'localhost/app:1' }) })),
      );
      put(root, '/var/lib/containers/storage/overlay-images/images.json', [{ id: image, names: ['localhost/app:1'] }]);
    },
  },
  {
    name: 'docker (config.v2.json)',
    cgroup: (id) => `/docker/${id}`,
    write: (root, ids) => {
      ids.forEach((id, i) => {
        put(root, `/var/lib/docker/containers/${id}/config.v2.json`, {
          Name: `/c${i}`,
          Image: `sha256:${'f'.repeat(64)}`,
          Config: { Image: 'app:1' },
        });
      });
    },
  },
];

function procOf(cgroup: string): ProcessInfo {
  const id = cgroupIdentity(cgroup);
  return { ...unknownProcess(1, 0), cgroup, containerId: id.containerId, containerRuntime: id.runtime, podUid: id.podUid };
}

export async function workloadBench(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 1000);
  const lookups = Number(args[1] ?? 2_000_000);
  countFsCalls();
  const rows: string[] = [];
  const agent = resourceFromAttributes({ 'service.name': 'cnproc-otel', 'host.name': 'h', 'k8s.pod.name': 'agent' });
  for (const [li, layout] of LAYOUTS.entries()) {
    const root = mkdtempSync(`${tmpdir()}/cnproc-bench-workload-`);
    try {
      const ids = Array.from({ length: n }, (_, i) => hex(i, li + 1));
      layout.write(root, ids);
      const procs = ids.map((id) => procOf(layout.cgroup(id)));
      const resolver = new WorkloadResolver({ hostRoot: root });
      const resources = new WorkloadResources(agent, resolver);
      fsCalls = 0;
      let t0 = performance.now();
      for (const p of procs) resolver.of(p);
      const newUs = ((performance.now() - t0) * 1000) / n;
      const newCalls = fsCalls / n;
      const s = resolver.stats();
      if (s.unresolved !== 0) throw new Error(`${layout.name}: ${s.unresolved} containers unresolved`);
      // Known containers: what every record of a container costs (enricher + resource processor).
      const records = procs.map((p) => ({ attributes: { 'cnproc.event.name': 'process.exec', 'container.id': p.containerId as string } }));
      fsCalls = 0;
      t0 = performance.now();
      let sink = 0;
      for (let i = 0; i < lookups; i++) {
        const k = i % n;
        if (resolver.of(procs[k]) !== null) sink++;
        if (resources.forRecord(records[k] as (typeof records)[number]) !== undefined) sink++;
      }
      const knownNs = ((performance.now() - t0) * 1e6) / lookups;
      if (sink !== 2 * lookups) throw new Error('lookup missed');
      rows.push(
        `| ${layout.name} | ${n} | ${newUs.toFixed(1)} | ${newCalls.toFixed(1)} | ${lookups.toLocaleString('en-US')} | ${knownNs.toFixed(0)} | ${fsCalls} |`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  process.stdout.write(
    [
      `## workload — naming containers (${new Date().toISOString().slice(0, 10)})`,
      '',
      '| runtime state layout | new containers | µs per new container | fs calls per new container | records of known containers | ns per record (resolve + resource) | fs calls for all of them |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
    ].join('\n'),
  );
}
