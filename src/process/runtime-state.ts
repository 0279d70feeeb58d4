/**
 * Container names from the state container runtimes keep on the host, read-only, with no API
 * server and no runtime socket. One function per kind of state; each answers for one container id
 * with the names it found, 'missing' when that runtime does not know the id (the caller tries the
 * next), or the problem that stopped it.
 *
 * Where each layout comes from (the runtimes' own code, and a real podman on this machine):
 * - containerd: every task's OCI bundle is <root>/io.containerd.runtime.v2.task/<namespace>/<id>/config.json
 *   (runtime v2 shim, /run/containerd by default); under CRI (namespace k8s.io) its annotations are
 *   io.kubernetes.cri.* (containerd internal/cri/annotations): container-type, sandbox-name,
 *   sandbox-namespace, sandbox-uid, container-name, image-name. nerdctl adds nerdctl/name.
 * - CRI-O and podman: containers/storage, <root>/<driver>-containers/<id>/userdata/config.json (CRI-O
 *   writes it under both the graph root /var/lib/containers/storage and the run root
 *   /run/containers/storage) with io.kubernetes.cri-o.* annotations (cri-o pkg/annotations): Labels
 *   (JSON: the kubelet's io.kubernetes.pod.name/namespace/uid and io.kubernetes.container.name),
 *   ContainerType, ImageName, ImageRef, KubeName; and <driver>-containers/containers.json (id, names,
 *   image id, metadata with image-name) with <driver>-images/images.json (image id → names).
 * - docker: <data-root>/containers/<id>/config.v2.json: Name, Config.Image, Image (sha256:…),
 *   Config.Labels (cri-dockerd puts the kubelet's io.kubernetes.* labels there).
 */
import { readdirSync, statSync } from 'node:fs';
import type { ContainerRuntime } from './container.js';
import { asObject, asString, readJsonBounded, type StateProblem, stringMap } from './state-files.js';

/** What runtime state can say about a container; null = not known. */
export interface WorkloadNames {
  runtime: ContainerRuntime | null;
  containerName: string | null;
  /** Image reference as the runtime recorded it (repository[:tag][@digest]); split by splitImage. */
  imageRef: string | null;
  /** Image id, "sha256:<hex>". */
  imageId: string | null;
  podUid: string | null;
  podName: string | null;
  namespace: string | null;
  k8sContainerName: string | null;
}

export type Lookup = { found: WorkloadNames } | { problem: StateProblem };

export const NO_NAMES: WorkloadNames = {
  runtime: null,
  containerName: null,
  imageRef: null,
  imageId: null,
  podUid: null,
  podName: null,
  namespace: null,
  k8sContainerName: null,
};

/** "registry/repo:tag@sha256:…" → name "registry/repo", tag "tag" (a port's colon is not a tag). */
export function splitImage(ref: string): { name: string; tag: string | null } {
  const at = ref.indexOf('@');
  const noDigest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = noDigest.lastIndexOf(':');
  if (colon > noDigest.lastIndexOf('/')) return { name: noDigest.slice(0, colon), tag: noDigest.slice(colon + 1) || null };
  return { name: noDigest, tag: null };
}

/** A bare 64-hex image id as "sha256:<hex>"; other forms as they are. */
function imageIdOf(v: string | null): string | null {
  if (v === null) return null;
  return /^[0-9a-f]{64}$/.test(v) ? `sha256:${v}` : v;
}

/** The names OCI annotations carry (containerd CRI, CRI-O, nerdctl); null values when absent. */
export function namesFromAnnotations(a: Record<string, string>): WorkloadNames {
  const n: WorkloadNames = { ...NO_NAMES };
  if (a['io.kubernetes.cri.container-type'] !== undefined) {
    // containerd CRI. A sandbox (pause) container has no container name of its own.
    n.runtime = 'containerd';
    n.podName = a['io.kubernetes.cri.sandbox-name'] ?? null;
    n.namespace = a['io.kubernetes.cri.sandbox-namespace'] ?? null;
    n.podUid = a['io.kubernetes.cri.sandbox-uid'] ?? null;
    n.k8sContainerName = a['io.kubernetes.cri.container-name'] ?? null;
    n.imageRef = a['io.kubernetes.cri.image-name'] ?? null;
  } else if (a['io.kubernetes.cri-o.ContainerType'] !== undefined || a['io.kubernetes.cri-o.Labels'] !== undefined) {
    n.runtime = 'cri-o';
    let labels: Record<string, string> = {};
    try {
      labels = stringMap(JSON.parse(a['io.kubernetes.cri-o.Labels'] ?? '{}'));
    } catch {
      // A malformed label blob: the plain annotations below may still name the pod.
    }
    const pick = (k: string): string | null => labels[k] ?? a[k] ?? null;
    n.podName = pick('io.kubernetes.pod.name');
    n.namespace = pick('io.kubernetes.pod.namespace');
    n.podUid = pick('io.kubernetes.pod.uid');
    n.k8sContainerName =
      a['io.kubernetes.cri-o.ContainerType'] === 'sandbox'
        ? null
        : (pick('io.kubernetes.container.name') ?? a['io.kubernetes.cri-o.KubeName'] ?? null);
    n.imageRef = asString(a['io.kubernetes.cri-o.ImageName']) ?? asString(a['io.kubernetes.cri-o.Image']);
    n.imageId = imageIdOf(asString(a['io.kubernetes.cri-o.ImageRef']));
  }
  // The manager says who made the container: podman's `play kube` pods also carry CRI-O-style keys.
  const manager = a['io.container.manager'];
  if (manager === 'libpod') n.runtime = 'podman';
  else if (manager === 'cri-o') n.runtime = 'cri-o';
  if (a['nerdctl/name'] !== undefined) n.containerName = a['nerdctl/name'];
  // Under Kubernetes the runtime's own name is generated; the name people know is the pod's container's.
  n.containerName ??= n.k8sContainerName;
  return n;
}

function annotationsOf(spec: unknown): Record<string, string> {
  return stringMap(asObject(spec)?.annotations);
}

/** containerd: the task's bundle config.json in any namespace. */
export function fromContainerd(taskRoot: string, id: string, maxBytes: number): Lookup {
  let namespaces: string[];
  try {
    namespaces = readdirSync(taskRoot);
  } catch {
    return { problem: 'missing' };
  }
  for (const ns of namespaces) {
    const r = readJsonBounded(`${taskRoot}/${ns}/${id}/config.json`, maxBytes);
    if (!r.ok) {
      if (r.problem === 'missing') continue;
      return { problem: r.problem };
    }
    const names = namesFromAnnotations(annotationsOf(r.value));
    names.runtime = 'containerd';
    // Outside CRI and nerdctl the id is the name the user gave (`ctr run <image> <id>`), unless it
    // is a generated 64-hex one.
    if (names.containerName === null && names.podName === null && !/^[0-9a-f]{64}$/.test(id)) names.containerName = id;
    return { found: names };
  }
  return { problem: 'missing' };
}

/** docker: containers/<id>/config.v2.json under a data root. */
export function fromDocker(dataRoot: string, id: string, maxBytes: number): Lookup {
  const r = readJsonBounded(`${dataRoot}/containers/${id}/config.v2.json`, maxBytes);
  if (!r.ok) return { problem: r.problem };
  const c = asObject(r.value);
  if (!c) return { problem: 'malformed' };
  const config = asObject(c.Config);
  const labels = stringMap(config?.Labels);
  const name = asString(c.Name);
  const n: WorkloadNames = {
    ...NO_NAMES,
    runtime: 'docker',
    containerName: name !== null ? name.replace(/^\//, '') : null,
    imageRef: asString(config?.Image),
    imageId: asString(c.Image),
    podName: labels['io.kubernetes.pod.name'] ?? null,
    namespace: labels['io.kubernetes.pod.namespace'] ?? null,
    podUid: labels['io.kubernetes.pod.uid'] ?? null,
    k8sContainerName: labels['io.kubernetes.container.name'] ?? null,
  };
  return { found: n };
}

/** One storage root's containers.json and images.json, parsed once and kept while their mtimes hold. */
interface StorageIndex {
  containersMtime: number;
  containers: Map<string, StorageEntry>;
  images: Map<string, string[]>;
}

/** A container in containers.json: its names, image id and (podman's metadata) image name. */
interface StorageEntry {
  names: string[];
  image: string | null;
  imageName: string | null;
}

/**
 * containers/storage (podman, CRI-O, buildah): the container's OCI spec annotations (CRI-O writes
 * the Kubernetes names there) and containers.json/images.json (podman's names and images). The two
 * lists are parsed once and parsed again only when a container they do not hold is asked for and
 * their mtime changed: a host starting many containers does not re-read a large file for each.
 */
export class StorageState {
  private readonly index = new Map<string, StorageIndex>();

  constructor(private readonly maxBytes: number) {}

  lookup(root: string, id: string): Lookup {
    let drivers: string[];
    try {
      drivers = readdirSync(root).filter((d) => d.endsWith('-containers'));
    } catch {
      return { problem: 'missing' };
    }
    for (const dir of drivers) {
      const driver = dir.slice(0, -'-containers'.length);
      const spec = readJsonBounded(`${root}/${dir}/${id}/userdata/config.json`, this.maxBytes);
      const listed = this.entry(root, driver, id);
      const entry = typeof listed === 'object' ? listed : undefined;
      if (!spec.ok && spec.problem === 'missing' && entry === undefined) {
        // Not this driver's container, unless the list that would name it could not be read.
        if (typeof listed === 'string') return { problem: listed };
        continue;
      }
      const names = spec.ok ? namesFromAnnotations(annotationsOf(spec.value)) : { ...NO_NAMES };
      if (entry !== undefined) {
        names.containerName ??= entry.names[0] ?? null;
        names.imageRef ??=
          entry.imageName ?? (entry.image !== null ? (this.index.get(`${root}/${driver}`)?.images.get(entry.image)?.[0] ?? null) : null);
        names.imageId ??= imageIdOf(entry.image);
        names.runtime ??= 'podman';
      } else if (!spec.ok) {
        return { problem: spec.problem };
      }
      return { found: names };
    }
    return { problem: 'missing' };
  }

  /** The container's entry; undefined when the lists do not hold it; the problem when they could not be read. */
  private entry(root: string, driver: string, id: string): StorageEntry | StateProblem | undefined {
    const key = `${root}/${driver}`;
    let idx = this.index.get(key);
    const hit = idx?.containers.get(id);
    if (hit !== undefined) return hit;
    const list = `${root}/${driver}-containers/containers.json`;
    if (idx !== undefined) {
      // Unchanged since parsed: the id is not in it, and a large list is not read again for each such id.
      try {
        if (statSync(list).mtimeMs === idx.containersMtime) return undefined;
      } catch {
        return undefined;
      }
    }
    const c = readJsonBounded(list, this.maxBytes);
    if (!c.ok) return c.problem === 'missing' ? undefined : c.problem;
    const im = readJsonBounded(`${root}/${driver}-images/images.json`, this.maxBytes);
    idx = {
      containersMtime: c.mtimeMs,
      containers: new Map(),
      images: new Map(),
    };
    if (Array.isArray(c.value)) {
      for (const x of c.value) {
        const o = asObject(x);
        const cid = asString(o?.id);
        if (!o || cid === null) continue;
        let imageName: string | null = null;
        try {
          imageName = asString(asObject(JSON.parse(asString(o.metadata) ?? '{}'))?.['image-name']);
        } catch {
          // Metadata is podman's own JSON string; without it the image list still names the image.
        }
        const names = Array.isArray(o.names) ? o.names.filter((s): s is string => typeof s === 'string') : [];
        idx.containers.set(cid, { names, image: asString(o.image), imageName });
      }
    }
    if (im.ok && Array.isArray(im.value)) {
      for (const x of im.value) {
        const o = asObject(x);
        const iid = asString(o?.id);
        if (!o || iid === null || !Array.isArray(o.names)) continue;
        idx.images.set(
          iid,
          o.names.filter((s): s is string => typeof s === 'string'),
        );
      }
    }
    this.index.set(key, idx);
    return idx.containers.get(id);
  }
}
