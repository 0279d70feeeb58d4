/**
 * The process section (process.*): what the capture thread reads (kernel/config.ts) and the
 * process table.
 */

import { BOOLEAN, bytesFormat, intFormat } from '../config/formats.js';
import type { ConfigSection } from '../config/section.js';
import { type SnapshotConfig, snapshotKeys } from '../kernel/config.js';

export interface ProcessConfig extends SnapshotConfig {
  ancestryDepth: number;
  maxProcesses: number;
  containerNames: boolean;
  hostRoot: string;
  maxStateFileBytes: number;
  hashExecutables: boolean;
  hashMaxFileBytes: number;
  hashCacheEntries: number;
  hashTimeoutMs: number;
}

export const processSection: ConfigSection<ProcessConfig> = {
  reload: 'restart',
  keys: {
    ...snapshotKeys,
    ancestryDepth: {
      doc: 'How many ancestors (parent, grandparent, ...) each record lists by executable.',
      format: intFormat(0, 64),
      default: 4,
    },
    maxProcesses: {
      doc: 'Most processes in the process table; beyond it the least recently seen are evicted (counted).',
      format: intFormat(1024, 4_194_304),
      default: 65_536,
    },
    containerNames: {
      doc: "Name each container from its runtime's state on the host (containerd, CRI-O, podman, docker), read-only, once per container: container.name, container.image.*, k8s.pod.name, k8s.namespace.name, k8s.container.name. false: ids only.",
      format: BOOLEAN,
      default: true,
      env: 'CNPROC_OTEL_CONTAINER_NAMES',
    },
    hostRoot: {
      doc: "Where the host's root filesystem is mounted when the agent runs in a container and the runtime state directories are not mounted at their own paths ('' = /).",
      format: String,
      default: '',
      env: 'CNPROC_OTEL_HOST_ROOT',
    },
    maxStateFileBytes: {
      doc: 'Largest runtime state file read to name a container (podman/CRI-O containers.json grows with the containers on the host); larger ones flag the container too-large.',
      format: bytesFormat(4096, 268_435_456),
      default: 4_194_304,
    },
    hashExecutables: {
      doc: "SHA-256 of each exec'd program file (cnproc.process.executable.hash.sha256), on a low-priority thread of its own, cached by file identity: an exec record carries it when the file was hashed before, else the process's later records do. Costs a read of each new program file (measured in docs/benchmarks.md); false: no hashing (file identity and build id are still read).",
      format: BOOLEAN,
      default: true,
      env: 'CNPROC_OTEL_HASH_EXECUTABLES',
      arg: 'hash-executables',
    },
    hashMaxFileBytes: {
      doc: 'Largest executable hashed; larger ones are skipped (counted, and flagged too_large on their records).',
      format: bytesFormat(4096, 4_294_967_296),
      default: 67_108_864,
    },
    hashCacheEntries: {
      doc: "Most executable files (by identity) whose hash is kept; the least recently exec'd are forgotten first.",
      format: intFormat(16, 1_048_576),
      default: 4096,
    },
    hashTimeoutMs: {
      doc: 'Longest the hasher reads one file; a file not done by then is skipped (counted as timeout).',
      format: intFormat(100, 600_000),
      default: 5000,
    },
  },
};
