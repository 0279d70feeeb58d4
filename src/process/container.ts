/**
 * Container and service identity from a cgroup path: what runtime made the cgroup, which container
 * it is, and (for rootless runtimes) whose. Names come later, from the runtime's state on disk
 * (workload.ts); this file only reads the path.
 *
 * Recognised shapes (systemd and cgroupfs drivers, cgroup v1 and v2):
 * - Docker:          /system.slice/docker-<id>.scope, /docker/<id>, rootless
 *                    /user.slice/user-<uid>.slice/user@<uid>.service/.../docker-<id>.scope
 * - containerd:      CRI .../kubepods-<qos>-pod<uid>.slice/cri-containerd-<id>.scope,
 *                    /kubepods/<qos>/pod<uid>/<id>; nerdctl .../nerdctl-<id>.scope; ctr /<namespace>/<id>,
 *                    where <id> is whatever the user named it (seen on this machine: `ctr run … probe`
 *                    puts the task in /default/probe): such a path is a container when containerd
 *                    has a task bundle for it (one stat per new cgroup path of that shape)
 * - CRI-O:           .../crio-<id>.scope, /kubepods/<qos>/pod<uid>/crio-<id>
 *                    (crio-conmon-<id> is the monitor, not the container)
 * - Podman:          /machine.slice/libpod-<id>.scope[/container], cgroupfs /libpod_parent/libpod-<id>,
 *                    rootless /user.slice/.../user@<uid>.service/user.slice/libpod-<id>.scope
 *                    (libpod-conmon-<id> is the monitor, not the container)
 * - LXC / Incus:     /lxc.payload.<name> (LXC 4+, Incus), /lxc/<name> (older cgroup v1); lxc.monitor.<name> is the monitor
 * - systemd-nspawn:  /machine.slice/systemd-nspawn@<name>.service, /machine.slice/machine-<name>.scope
 *                    (machine-qemu… scopes are libvirt VMs: host processes, not containers)
 * - anything else:   a path segment holding a 64-hex id (e.g. GitHub Actions' /actions_job/<id>, a
 *                    runtime nobody listed) is a container of unknown runtime. Every runtime above
 *                    names containers by a 64-hex id, so this rule is what catches the next one.
 * - systemd:         the innermost *.service (or *.scope outside containers), e.g. sshd.service,
 *                    session-3.scope
 *
 * The innermost container segment wins: in nested containers (docker in docker, systemd in a
 * container) the process belongs to the inner one.
 */

import { existsSync } from 'node:fs';

export type ContainerRuntime = 'docker' | 'containerd' | 'cri-o' | 'podman' | 'kubernetes' | 'lxc' | 'systemd-nspawn';

export interface CgroupIdentity {
  /** 64-hex container id (LXC, nspawn: the container's name), or null on the host. */
  containerId: string | null;
  /** Container runtime that made the cgroup, when the path says. */
  runtime: ContainerRuntime | null;
  /** Kubernetes pod uid (with dashes), when in a pod. */
  podUid: string | null;
  /** systemd unit (service or scope) for host processes. */
  systemdUnit: string | null;
  /** The container's name when the path carries it (LXC, nspawn); else names come from runtime state. */
  containerName: string | null;
  /** For containers under a user's systemd instance (rootless podman/docker): that user's uid. */
  ownerUid: number | null;
}

const HEX64 = /^[0-9a-f]{64}$/;
/** A 64-hex run not part of a longer hex run. */
const ANY_HEX64 = /(?:^|[^0-9a-f])([0-9a-f]{64})(?:[^0-9a-f]|$)/;
/** <prefix>-<id>[.scope]: the runtimes' own segment names. */
const PREFIXED = /^(docker|cri-containerd|crio|libpod|nerdctl)-([0-9a-f]{64})(?:\.scope)?$/;
const PREFIX_RUNTIME: Record<string, ContainerRuntime> = {
  docker: 'docker',
  'cri-containerd': 'containerd',
  crio: 'cri-o',
  libpod: 'podman',
  nerdctl: 'containerd',
};
const NSPAWN_SERVICE = /^systemd-nspawn@(.+)\.service$/;
const MACHINE_SCOPE = /^machine-(.+)\.scope$/;
const POD = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/;
const USER_SERVICE = /^user@(\d+)\.service$/;
const UNIT = /([^/]+\.(?:service|scope))(?:\/|$)/g;

const cache = new Map<string, CgroupIdentity>();
const CACHE_MAX = 4096;

/** Where containerd keeps task bundles (its own, and k3s's): /<namespace>/<id> cgroups are checked against them. */
const TASK_ROOTS = ['/run/containerd/io.containerd.runtime.v2.task', '/run/k3s/containerd/io.containerd.runtime.v2.task'];
let taskRoots = TASK_ROOTS;

/** The host's root as the agent sees it (process.hostRoot; '' = /), for the containerd bundle check. */
export function setCgroupHostRoot(hostRoot: string): void {
  const root = hostRoot.replace(/\/+$/, '');
  taskRoots = TASK_ROOTS.map((r) => `${root}${r}`);
  cache.clear();
}

/** A ctr/containerd task's cgroupfs path /<namespace>/<id>, confirmed by its bundle (ids are free-form). */
function containerdTask(segs: readonly string[]): Found | null {
  if (segs.length !== 3 || segs[0] !== '') return null;
  const ns = segs[1] as string;
  const id = segs[2] as string;
  if (ns === '' || id === '' || /\.(?:slice|scope|service)$/.test(ns) || /\.(?:slice|scope|service)$/.test(id)) return null;
  for (const root of taskRoots) if (existsSync(`${root}/${ns}/${id}/config.json`)) return { id, runtime: 'containerd', name: null };
  return null;
}

/** systemd escapes "-" and other bytes in unit names as \xNN; a machine name is shown unescaped. */
function unescapeUnit(s: string): string {
  return s.replace(/\\x([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

interface Found {
  id: string;
  runtime: ContainerRuntime | null;
  name: string | null;
}

/** The container a segment names (given its parent segment), or null. */
function segmentContainer(seg: string, parent: string | undefined): Found | null {
  // Monitors run beside the container, on the host's behalf: never the container itself.
  if (seg.includes('conmon') || seg.startsWith('lxc.monitor')) return null;
  const m = PREFIXED.exec(seg);
  if (m) return { id: m[2] as string, runtime: PREFIX_RUNTIME[m[1] as string] as ContainerRuntime, name: null };
  if (HEX64.test(seg)) {
    if (parent === 'docker') return { id: seg, runtime: 'docker', name: null };
    if (parent !== undefined && POD.test(parent)) return { id: seg, runtime: 'kubernetes', name: null };
    return { id: seg, runtime: null, name: null };
  }
  if (seg.startsWith('lxc.payload.') && seg.length > 12) {
    const name = seg.slice(12);
    return { id: name, runtime: 'lxc', name };
  }
  if (parent === 'lxc' || parent === 'lxc.payload') return { id: seg, runtime: 'lxc', name: seg };
  let n = NSPAWN_SERVICE.exec(seg);
  if (n) {
    const name = unescapeUnit(n[1] as string);
    return { id: name, runtime: 'systemd-nspawn', name };
  }
  n = MACHINE_SCOPE.exec(seg);
  if (n && parent === 'machine.slice') {
    const name = unescapeUnit(n[1] as string);
    if (name.startsWith('qemu-') || name.startsWith('libpod')) return null;
    return { id: name, runtime: 'systemd-nspawn', name };
  }
  const g = ANY_HEX64.exec(seg);
  if (g) return { id: g[1] as string, runtime: null, name: null };
  return null;
}

function compute(path: string): CgroupIdentity {
  const segs = path.split('/');
  let found: Found | null = null;
  let at = -1;
  for (let i = segs.length - 1; i >= 0 && found === null; i--) {
    const seg = segs[i] as string;
    if (seg === '') continue;
    found = segmentContainer(seg, i > 0 ? segs[i - 1] : undefined);
    at = i;
  }
  if (found === null) {
    found = containerdTask(segs);
    at = segs.length - 1;
  }
  const pod = POD.exec(path);
  const podUid = pod ? (pod[1] as string).replace(/_/g, '-') : null;
  let runtime = found?.runtime ?? null;
  if (found !== null && runtime === null && path.includes('kubepods')) runtime = 'kubernetes';
  if (podUid && runtime === null) runtime = 'kubernetes';
  let ownerUid: number | null = null;
  if (found !== null) {
    for (let i = 0; i < at; i++) {
      const u = USER_SERVICE.exec(segs[i] as string);
      if (u) ownerUid = Number(u[1]);
    }
  }
  let systemdUnit: string | null = null;
  if (!found) {
    for (const m of path.matchAll(UNIT)) systemdUnit = m[1] as string;
  }
  return { containerId: found?.id ?? null, runtime, podUid, systemdUnit, containerName: found?.name ?? null, ownerUid };
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
