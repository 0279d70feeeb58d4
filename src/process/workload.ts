/**
 * Who runs a process: its container's names (container, image, Kubernetes pod, namespace and
 * container), resolved from the runtime's state on the host once per container and kept.
 *
 * Cost model: the first process seen in a container pays a few small file reads (runtime-state.ts,
 * each bounded by maxStateFileBytes); every later record of that container is one Map lookup by
 * the id string the cgroup parse already interned: no syscall, no allocation. What cannot be
 * resolved is flagged (`unresolved`), never guessed, and looked up again at most every retryMs, so
 * a container whose state appears late gets its names without costing every event a lookup.
 */
import { readFileSync } from 'node:fs';
import { defaultsOf } from '../config/section.js';
import { processSection } from './config.js';
import { type CgroupIdentity, type ContainerRuntime, cgroupIdentity } from './container.js';
import { fromContainerd, fromDocker, type Lookup, NO_NAMES, StorageState, splitImage, type WorkloadNames } from './runtime-state.js';
import type { StateProblem } from './state-files.js';

/** One container's identity and names. Immutable and shared by all its records (and its OTLP resource). */
export interface Workload {
  readonly containerId: string;
  readonly runtime: ContainerRuntime | null;
  readonly containerName: string | null;
  /** Image repository without tag or digest. */
  readonly imageName: string | null;
  readonly imageTag: string | null;
  /** "sha256:<hex>" when the runtime recorded it. */
  readonly imageId: string | null;
  readonly podUid: string | null;
  readonly podName: string | null;
  readonly namespace: string | null;
  readonly k8sContainerName: string | null;
  /**
   * Why the names are missing, when they are: 'no-state' (no runtime's state knows the id),
   * 'unnamed' (the state names nothing, e.g. a plain `ctr run`), or the state file's problem
   * (too-large, malformed, vanished, denied, io-error). null when resolved.
   */
  readonly unresolved: 'no-state' | 'unnamed' | StateProblem | null;
}

/** The fields of a ProcessInfo (./model.ts) a workload is found from. */
export interface ProcessCgroup {
  readonly cgroup: string | null;
  readonly containerId: string | null;
  readonly containerRuntime: string | null;
  readonly podUid: string | null;
}

export interface WorkloadResolverOptions {
  /** Look names up in runtime state (default: process.containerNames); false keeps ids only, unflagged. */
  names?: boolean;
  /**
   * Where the host's root is mounted (default: process.hostRoot, '' = this root). Call
   * setCgroupHostRoot (container.ts) with the same path: ctr containers are recognised by their bundle.
   */
  hostRoot?: string;
  /** Larger state files are not read, flagged too-large (default: process.maxStateFileBytes). */
  maxStateFileBytes?: number;
  /** Most containers kept (default 4096); beyond it the oldest entry goes. */
  maxContainers?: number;
  /** An unresolved container is looked up again at most this often (ms, default 10 s). */
  retryMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

export interface WorkloadStats {
  containers: number;
  /** State lookups made (first sight and retries), and how many left the container unresolved. */
  lookups: number;
  unresolved: number;
  /** Time spent in lookups, ms. */
  lookupMs: number;
}

interface Entry {
  workload: Workload;
  /** When an unresolved entry may be looked up again (ms); Infinity once resolved. */
  retryAt: number;
}

/** Not configuration (internal bounds): containers kept, and how often an unresolved one is retried. */
const MAX_CONTAINERS = 4096;
const RETRY_MS = 10_000;

export class WorkloadResolver {
  private readonly cache = new Map<string, Entry>();
  private readonly storage: StorageState;
  private readonly homes = new Map<number, string | null>();
  private readonly names: boolean;
  private readonly root: string;
  private readonly maxBytes: number;
  private readonly maxContainers: number;
  private readonly retryMs: number;
  private readonly now: () => number;
  private lookups = 0;
  private failed = 0;
  private lookupMs = 0;

  constructor(opts: WorkloadResolverOptions = {}) {
    const d = defaultsOf(processSection);
    this.names = opts.names ?? d.containerNames;
    this.root = (opts.hostRoot ?? d.hostRoot).replace(/\/+$/, '');
    this.maxBytes = opts.maxStateFileBytes ?? d.maxStateFileBytes;
    this.maxContainers = opts.maxContainers ?? MAX_CONTAINERS;
    this.retryMs = opts.retryMs ?? RETRY_MS;
    this.now = opts.now ?? (() => performance.now());
    this.storage = new StorageState(this.maxBytes);
  }

  /**
   * The workload of a process (a ProcessInfo: only its cgroup fields are read; spelled out so the
   * process model can name Workload without an import cycle); null on the host. Resolves on first
   * sight of its container.
   */
  of(p: ProcessCgroup | undefined): Workload | null {
    if (p === undefined || p.containerId === null) return null;
    const e = this.cache.get(p.containerId);
    if (e !== undefined && (e.retryAt === Number.POSITIVE_INFINITY || this.now() < e.retryAt)) return e.workload;
    const identity: CgroupIdentity =
      p.cgroup !== null
        ? cgroupIdentity(p.cgroup)
        : {
            containerId: p.containerId,
            runtime: p.containerRuntime as ContainerRuntime | null,
            podUid: p.podUid,
            systemdUnit: null,
            containerName: null,
            ownerUid: null,
          };
    return this.resolve(p.containerId, identity);
  }

  /** An already resolved workload by container id (no lookup): for records that carry only the id. */
  byId(containerId: string): Workload | undefined {
    return this.cache.get(containerId)?.workload;
  }

  stats(): WorkloadStats {
    return { containers: this.cache.size, lookups: this.lookups, unresolved: this.failed, lookupMs: this.lookupMs };
  }

  private resolve(containerId: string, id: CgroupIdentity): Workload {
    const t0 = this.now();
    let names: WorkloadNames = { ...NO_NAMES, runtime: id.runtime, containerName: id.containerName };
    let unresolved: Workload['unresolved'] = null;
    // LXC and nspawn containers are named by their cgroup: nothing to read.
    if (this.names && id.containerName === null) {
      const r = this.lookup(containerId, id);
      if ('found' in r) {
        names = r.found;
        if (names.containerName === null && names.podName === null && names.imageRef === null) unresolved = 'unnamed';
      } else unresolved = r.problem === 'missing' ? 'no-state' : r.problem;
      this.lookups++;
      if (unresolved !== null) this.failed++;
    }
    const image = names.imageRef !== null ? splitImage(names.imageRef) : null;
    let workload: Workload = {
      containerId,
      runtime: names.runtime ?? id.runtime,
      containerName: names.containerName,
      imageName: image?.name ?? null,
      imageTag: image?.tag ?? null,
      imageId: names.imageId,
      podUid: names.podUid ?? id.podUid,
      podName: names.podName,
      namespace: names.namespace,
      k8sContainerName: names.k8sContainerName,
      unresolved,
    };
    const now = this.now();
    this.lookupMs += now - t0;
    // A retry that learned nothing new keeps the same object: its records stay under one resource.
    const before = this.cache.get(containerId)?.workload;
    if (before !== undefined && sameWorkload(before, workload)) workload = before;
    if (before === undefined && this.cache.size >= this.maxContainers) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(containerId, { workload, retryAt: unresolved === null ? Number.POSITIVE_INFINITY : now + this.retryMs });
    return workload;
  }

  /** Runtime state in the order the cgroup suggests; the first that knows the id answers. */
  private lookup(containerId: string, id: CgroupIdentity): Lookup {
    const r = this.root;
    const home = id.ownerUid !== null ? this.home(id.ownerUid) : null;
    const containerd = (): Lookup => {
      let res = fromContainerd(`${r}/run/containerd/io.containerd.runtime.v2.task`, containerId, this.maxBytes);
      // k3s runs its own containerd with the same layout under /run/k3s.
      if ('problem' in res && res.problem === 'missing')
        res = fromContainerd(`${r}/run/k3s/containerd/io.containerd.runtime.v2.task`, containerId, this.maxBytes);
      return res;
    };
    const docker = (): Lookup => {
      const res = fromDocker(`${r}/var/lib/docker`, containerId, this.maxBytes);
      if ('problem' in res && res.problem === 'missing' && home !== null)
        return fromDocker(`${r}${home}/.local/share/docker`, containerId, this.maxBytes);
      return res;
    };
    const storage = (): Lookup => {
      const roots = [`${r}/var/lib/containers/storage`, `${r}/run/containers/storage`];
      if (home !== null) roots.unshift(`${r}${home}/.local/share/containers/storage`);
      if (id.ownerUid !== null) roots.push(`${r}/run/user/${id.ownerUid}/containers`);
      let res: Lookup = { problem: 'missing' };
      for (const root of roots) {
        res = this.storage.lookup(root, containerId);
        if (!('problem' in res) || res.problem !== 'missing') return res;
      }
      return res;
    };
    const order =
      id.runtime === 'docker'
        ? [docker, containerd, storage]
        : id.runtime === 'containerd'
          ? [containerd, storage, docker]
          : id.runtime === 'podman' || id.runtime === 'cri-o'
            ? [storage, containerd, docker]
            : [containerd, storage, docker];
    let first: Lookup = { problem: 'missing' };
    for (const source of order) {
      const res = source();
      if ('found' in res) return res;
      if (res.problem !== 'missing' && 'problem' in first && first.problem === 'missing') first = res;
    }
    return first;
  }

  /** A user's home directory from the host's /etc/passwd (rootless runtimes keep state there). */
  private home(uid: number): string | null {
    if (this.homes.has(uid)) return this.homes.get(uid) ?? null;
    let home: string | null = null;
    try {
      for (const line of readFileSync(`${this.root}/etc/passwd`, 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length >= 6 && Number(f[2]) === uid && f[5]) {
          home = f[5] as string;
          break;
        }
      }
    } catch {
      // No passwd: only the system-wide state is looked at.
    }
    this.homes.set(uid, home);
    return home;
  }
}

function sameWorkload(a: Workload, b: Workload): boolean {
  for (const k of Object.keys(a) as Array<keyof Workload>) if (a[k] !== b[k]) return false;
  return true;
}
