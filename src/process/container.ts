/**
 * Container and service identity from a cgroup path.
 *
 * Recognised shapes (systemd and cgroupfs drivers, cgroup v1 and v2):
 * - Docker:          /system.slice/docker-<id>.scope, /docker/<id>
 * - containerd (k8s):/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope,
 *                    /kubepods/burstable/pod<uid>/<id>
 * - CRI-O:           .../crio-<id>.scope
 * - Podman:          /machine.slice/libpod-<id>.scope[/container], /user.slice/.../libpod-<id>.scope
 *                    (libpod-conmon-<id>.scope is the monitor process, not the container)
 * - systemd:         the innermost *.service (or *.scope outside containers), e.g. sshd.service,
 *                    session-3.scope
 */

export interface CgroupIdentity {
  /** 64-hex container id, or null on the host. */
  containerId: string | null;
  /** Container runtime that made the cgroup, when recognised. */
  runtime: 'docker' | 'containerd' | 'cri-o' | 'podman' | 'kubernetes' | null;
  /** Kubernetes pod uid (with dashes), when in a pod. */
  podUid: string | null;
  /** systemd unit (service or scope) for host processes. */
  systemdUnit: string | null;
}

const ID = '([0-9a-f]{64})';
const SCOPE_PATTERNS: Array<[RegExp, CgroupIdentity['runtime']]> = [
  [new RegExp(`(?:^|/)docker-${ID}\\.scope(?:/|$)`), 'docker'],
  [new RegExp(`(?:^|/)cri-containerd-${ID}\\.scope(?:/|$)`), 'containerd'],
  [new RegExp(`(?:^|/)crio-${ID}\\.scope(?:/|$)`), 'cri-o'],
  [new RegExp(`(?:^|/)libpod-${ID}\\.scope(?:/|$)`), 'podman'],
  [new RegExp(`(?:^|/)docker/${ID}(?:/|$)`), 'docker'],
];
const KUBE_CGROUPFS = new RegExp(`/kubepods/(?:[a-z]+/)?pod[0-9a-f-]+/${ID}(?:/|$)`);
const POD = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/;
const UNIT = /([^/]+\.(?:service|scope))(?:\/|$)/g;

const cache = new Map<string, CgroupIdentity>();
const CACHE_MAX = 4096;

function compute(path: string): CgroupIdentity {
  let containerId: string | null = null;
  let runtime: CgroupIdentity['runtime'] = null;
  for (const [re, rt] of SCOPE_PATTERNS) {
    const m = re.exec(path);
    if (m) {
      containerId = m[1] as string;
      runtime = rt;
      break;
    }
  }
  if (!containerId) {
    const m = KUBE_CGROUPFS.exec(path);
    if (m) {
      containerId = m[1] as string;
      runtime = 'kubernetes';
    }
  }
  const pod = POD.exec(path);
  const podUid = pod ? (pod[1] as string).replace(/_/g, '-') : null;
  if (podUid && runtime === null) runtime = 'kubernetes';
  let systemdUnit: string | null = null;
  if (!containerId) {
    for (const m of path.matchAll(UNIT)) systemdUnit = m[1] as string;
  }
  return { containerId, runtime, podUid, systemdUnit };
}

/** Identity for a cgroup path (cached: a host has few distinct cgroups). */
export function cgroupIdentity(path: string): CgroupIdentity {
  let v = cache.get(path);
  if (!v) {
    v = compute(path);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(path, v);
  }
  return v;
}
