/**
 * The attribute mapping: every attribute a process-event record can carry, named once here.
 *
 * Semantic-convention names (v1.44, process.* is release candidate) wherever one exists; everything
 * else under the project prefix `cnproc.`. docs/attributes.md is generated from ATTRIBUTE_DOCS
 * (`npm run docs:attributes`) and a test checks both that file and that the mapper emits nothing
 * undocumented.
 */
import type { AnyValue, LogAttributes } from '@opentelemetry/api-logs';
import type { HrTime } from '../kernel/events.js';
import { capabilityNames, isPrivileged } from '../process/capabilities.js';
import { type ExecutableOrigin, executableOrigin, writableByUser } from '../process/executable.js';
import type { ExecutableFile } from '../process/executable-hash.js';
import type { EnrichedEvent, Escalation, ProcessInfo } from '../process/model.js';
import type { Namespaces } from '../process/namespaces.js';
import type { Workload } from '../process/workload.js';
import type { ProcessBlock, SplitAttributes } from './split-attributes.js';

export type AttrType = 'string' | 'int' | 'boolean' | 'string[]' | 'int[]';

export interface AttrDoc {
  type: AttrType;
  /**
   * Which records carry it: 'all', 'full', event names without the "process." prefix, or 'workload'
   * (the workload resource in the agent; full records in the library, see MappingContext).
   */
  on: string;
  brief: string;
}

/** Every attribute, documented. Order = order in docs/attributes.md. */
export const ATTRIBUTE_DOCS = {
  'cnproc.event.name': {
    type: 'string',
    on: 'all',
    brief: 'Same as the record EventName (for backends that drop EventName, e.g. Loki before 2026).',
  },
  'cnproc.event.id': {
    type: 'string',
    on: 'all',
    brief: 'Unique per boot: "<cpu>-<kernel seq>"; with cnproc.boot.id (resource) it de-duplicates at-least-once delivery.',
  },
  'cnproc.event.cpu': { type: 'int', on: 'all', brief: 'CPU that generated the event.' },
  'cnproc.event.seq': { type: 'int', on: 'all', brief: 'Kernel per-CPU sequence number.' },
  'process.pid': { type: 'int', on: 'all', brief: 'Process id (tgid). For fork: the child.' },
  'thread.id': { type: 'int', on: 'all', brief: 'Thread id the kernel reported (pid); differs from process.pid for threads.' },
  'cnproc.thread.is_thread': { type: 'boolean', on: 'fork, exit', brief: 'The event is about a thread, not a process.' },
  'process.parent_pid': { type: 'int', on: 'all', brief: 'Parent process id.' },
  'process.executable.path': { type: 'string', on: 'all', brief: 'Executable path (/proc/<pid>/exe), escaped.' },
  'process.executable.name': { type: 'string', on: 'full', brief: 'Base name of the executable path.' },
  'cnproc.process.executable.fileless': {
    type: 'boolean',
    on: 'full',
    brief:
      'The program is on no file system any more (true only): cnproc.process.executable.origin says why, process.executable.path is the evidence. Cost: no syscall, a string test per process (~40 ns, npm run bench -- security).',
  },
  'cnproc.process.executable.origin': {
    type: 'string',
    on: 'full',
    brief: 'memfd (run from memfd_create, path "/memfd:<name> (deleted)") or deleted (the file was unlinked, path ends " (deleted)").',
  },
  'cnproc.process.executable.tmpfs': {
    type: 'boolean',
    on: 'full',
    brief:
      'The program is on a memory-backed mount (tmpfs, ramfs, devtmpfs) of its mount namespace (true only); the mount is the evidence (cnproc.process.executable.mount.*). process.executableMount (default on); cost: one readlinkat per exec on the capture thread (ns/mnt, ~2.6 µs), ~1 µs per exec on the main thread with the mount table cached (npm run bench -- security; docs/process.md).',
  },
  'cnproc.process.executable.upper_layer': {
    type: 'boolean',
    on: 'full',
    brief:
      "The program is in a container's writable layer (true only): its overlay mount's upperdir holds the file, so it was added or changed after the image was built (Falco's proc.is_exe_upper_layer). Evidence: cnproc.process.executable.upper_dir. Cost: one lstat per exec from an overlay mount (~2.7 µs).",
  },
  'cnproc.process.executable.mount.point': {
    type: 'string',
    on: 'full',
    brief: "Flagged programs only: the mount point (in the process's mount namespace) of the mount the program is on.",
  },
  'cnproc.process.executable.mount.type': {
    type: 'string',
    on: 'full',
    brief: "Flagged programs only: that mount's file system type (tmpfs, ramfs, devtmpfs, overlay).",
  },
  'cnproc.process.executable.upper_dir': {
    type: 'string',
    on: 'full',
    brief: "upper_layer only: the overlay's upperdir (the container runtime's path on the host) that holds the program.",
  },
  'process.executable.build_id.gnu': {
    type: 'string',
    on: 'full',
    brief:
      'GNU build id of the executable (hex), from the NT_GNU_BUILD_ID note of its ELF program headers, read on the capture thread at exec through /proc/<pid>/exe (first page, one more bounded read if the note lies beyond it). Semconv name.',
  },
  'cnproc.process.executable.build_id_missing': {
    type: 'string',
    on: 'full',
    brief: 'Why the executable file read at exec has no build id: none (ELF without the note), not_elf, malformed, unreadable.',
  },
  'cnproc.process.executable.hash.sha256': {
    type: 'string',
    on: 'full',
    brief:
      "SHA-256 of the executable file (hex), hashed off the capture and main threads and cached by identity (device, inode, size, mtime, ctime): on the exec record when the cache had it, else on the process's later records (exit). Never the hash of another file: the hashed file's identity is checked before and after reading. Semconv has no executable hash (ECS: process.hash.sha256), hence the project prefix.",
  },
  'cnproc.process.executable.hash.missing': {
    type: 'string',
    on: 'full',
    brief:
      'With hashing on, why the record has no hash: pending (not hashed yet: the record did not wait), too_large (process.hashMaxFileBytes), not_regular, gone (the process and its file were gone before the hasher came), denied, changed (replaced or modified since the exec), timeout, queue_full, failed.',
  },
  'cnproc.process.executable.size': {
    type: 'int',
    on: 'full',
    brief:
      'Size of the executable file in bytes. This and the other cnproc.process.executable.* file facts come from one statx of the file behind /proc/<pid>/exe at exec (deleted files and memfds included). Semconv file.* names describe a file as the subject of a record; here the file is a property of the process, so they are under the project prefix.',
  },
  'cnproc.process.executable.inode': {
    type: 'string',
    on: 'full',
    brief: 'Inode number of the executable file (decimal string, as semconv file.inode).',
  },
  'cnproc.process.executable.device': { type: 'string', on: 'full', brief: 'Device of the executable file\'s file system, "major:minor".' },
  'cnproc.process.executable.mtime': { type: 'string', on: 'full', brief: 'Last modification of the executable file, ISO 8601.' },
  'cnproc.process.executable.owner.id': { type: 'int', on: 'full', brief: 'Owner uid of the executable file.' },
  'cnproc.process.executable.group.id': { type: 'int', on: 'full', brief: 'Group gid of the executable file.' },
  'cnproc.process.executable.mode': {
    type: 'string',
    on: 'full',
    brief:
      'Permission bits of the executable file, octal with the set-id and sticky bits (e.g. "4755" for a setuid file), as semconv file.mode.',
  },
  'cnproc.process.executable.writable_by_user': {
    type: 'boolean',
    on: 'full',
    brief:
      "The program file is writable by the user running it (true only; Falco's proc.is_exe_writable): the owner's write bit when the file's owner is the process's effective uid, else the group's for its effective gid, else the others'. Never for a root process (root writes every file: it would flag them all); supplementary groups are not read. From the file's owner and mode (process.executableFile); no syscall.",
  },
  'process.command': { type: 'string', on: 'full', brief: 'argv[0].' },
  'process.command_args': { type: 'string[]', on: 'full', brief: 'argv, escaped and with secrets redacted.' },
  'process.command_line': { type: 'string', on: 'full', brief: 'argv joined by spaces, escaped and with secrets redacted.' },
  'process.args_count': { type: 'int', on: 'full', brief: 'Number of arguments (before any truncation).' },
  'cnproc.process.args_truncated': {
    type: 'boolean',
    on: 'full',
    brief: 'The command line was longer than process.maxCommandLineBytes and was cut.',
  },
  'cnproc.process.args_redacted': { type: 'boolean', on: 'full', brief: 'At least one secret was replaced in the command line.' },
  'process.working_directory': { type: 'string', on: 'full', brief: 'Current directory at exec.' },
  'cnproc.process.comm': { type: 'string', on: 'full', brief: 'Kernel task name (comm, 15 bytes).' },
  'process.user.id': { type: 'int', on: 'all', brief: 'Effective uid.' },
  'process.user.name': { type: 'string', on: 'full', brief: 'Effective user name.' },
  'process.owner': { type: 'string', on: 'full', brief: 'Effective user name (semconv alias of process.user.name).' },
  'process.real_user.id': { type: 'int', on: 'full', brief: 'Real uid.' },
  'process.real_user.name': { type: 'string', on: 'full', brief: 'Real user name.' },
  'process.saved_user.id': { type: 'int', on: 'full', brief: 'Saved uid.' },
  'process.saved_user.name': { type: 'string', on: 'full', brief: 'Saved user name.' },
  'cnproc.process.group.id': { type: 'int', on: 'full', brief: 'Effective gid.' },
  'cnproc.process.group.name': { type: 'string', on: 'full', brief: 'Effective group name.' },
  'cnproc.process.real_group.id': { type: 'int', on: 'full', brief: 'Real gid.' },
  'cnproc.process.saved_group.id': { type: 'int', on: 'full', brief: 'Saved gid.' },
  'cnproc.process.capabilities.effective': {
    type: 'string[]',
    on: 'full',
    brief:
      'Effective capabilities (CapEff of /proc/<pid>/status), e.g. cap_net_raw; [] when none. Absent when unknown (after a uid change, until the next exec). Cost: no syscall (status is read anyway); parsing both sets 0.6–1 µs per exec (about twice the Uid/Gid parse), names 0.4–0.6 µs per process (npm run bench -- security, medians of 9 runs on a shared machine).',
  },
  'cnproc.process.capabilities.permitted': {
    type: 'string[]',
    on: 'full',
    brief: 'Permitted capabilities (CapPrm), as cnproc.process.capabilities.effective.',
  },
  'cnproc.process.privileged': {
    type: 'boolean',
    on: 'full',
    brief: 'Privileged in its user namespace: every capability effective, or effective uid 0 with any effective capability.',
  },
  'cnproc.process.namespace.pid': {
    type: 'int',
    on: 'full',
    brief:
      'pid namespace inode at exec (process.namespaces, off by default). Likewise .mnt, .net, .user, .uts, .ipc, .cgroup, .time; absent when off or not read (see cnproc.process.missing). Cost: 8 readlinkat per exec on the capture thread (~25 µs per exec under load), ~4 µs per exec on the main thread (npm run bench -- security).',
  },
  'cnproc.process.namespace.mnt': { type: 'int', on: 'full', brief: 'Mount namespace inode at exec (process.namespaces).' },
  'cnproc.process.namespace.net': { type: 'int', on: 'full', brief: 'Network namespace inode at exec (process.namespaces).' },
  'cnproc.process.namespace.user': { type: 'int', on: 'full', brief: 'User namespace inode at exec (process.namespaces).' },
  'cnproc.process.namespace.uts': { type: 'int', on: 'full', brief: 'UTS namespace inode at exec (process.namespaces).' },
  'cnproc.process.namespace.ipc': { type: 'int', on: 'full', brief: 'IPC namespace inode at exec (process.namespaces).' },
  'cnproc.process.namespace.cgroup': { type: 'int', on: 'full', brief: 'cgroup namespace inode at exec (process.namespaces).' },
  'cnproc.process.namespace.time': {
    type: 'int',
    on: 'full',
    brief: 'Time namespace inode at exec (process.namespaces; kernels with time namespaces).',
  },
  'cnproc.process.namespaces.non_host': {
    type: 'string[]',
    on: 'full',
    brief:
      "The types (pid, mnt, net, user, uts, ipc, cgroup, time) whose namespace is not the host's initial one; [] when every one read is the host's (process.namespaces). Absent when the host's are unknown. The host's: the kernel's fixed initial inodes (docs/process.md).",
  },
  'cnproc.process.login_user.id': { type: 'int', on: 'full', brief: 'Audit login uid; absent for processes outside any login (daemons).' },
  'cnproc.process.login_user.name': { type: 'string', on: 'full', brief: 'Audit login user name.' },
  'cnproc.process.audit_session.id': { type: 'int', on: 'full', brief: 'Audit session id.' },
  'process.session_leader.pid': { type: 'int', on: 'full', brief: 'Session leader pid (sid).' },
  'process.group_leader.pid': { type: 'int', on: 'full', brief: 'Process group leader pid.' },
  'process.interactive': { type: 'boolean', on: 'full', brief: 'Has a controlling terminal.' },
  'process.creation.time': {
    type: 'string',
    on: 'all',
    brief: 'Start time, ISO 8601 (fork time when seen, else boot time + start ticks).',
  },
  'process.linux.cgroup': { type: 'string', on: 'full', brief: 'cgroup path.' },
  'container.id': {
    type: 'string',
    on: 'all',
    brief: 'Container id from the cgroup path (LXC, systemd-nspawn: the container name). Also on the workload resource.',
  },
  'cnproc.container.runtime': {
    type: 'string',
    on: 'full',
    brief:
      'docker, containerd, cri-o, podman, lxc, systemd-nspawn or kubernetes (a pod of unknown runtime): from the cgroup path; on the workload resource, from the runtime state that named the container.',
  },
  'k8s.pod.uid': {
    type: 'string',
    on: 'all',
    brief: 'Kubernetes pod uid from the cgroup path (or runtime state). Also on the workload resource.',
  },
  'container.name': {
    type: 'string',
    on: 'workload',
    brief: "Container name from the runtime's state; under Kubernetes, the pod's container name.",
  },
  'container.image.name': { type: 'string', on: 'workload', brief: 'Image repository, without tag or digest, as the runtime recorded it.' },
  'container.image.tags': { type: 'string[]', on: 'workload', brief: 'The image tag the container was started from.' },
  'container.image.id': { type: 'string', on: 'workload', brief: 'Image id, sha256:<hex>, when the runtime recorded it.' },
  'k8s.pod.name': {
    type: 'string',
    on: 'workload',
    brief: 'Pod name (CRI annotations of containerd and CRI-O; docker labels of cri-dockerd).',
  },
  'k8s.namespace.name': { type: 'string', on: 'workload', brief: "The pod's namespace." },
  'k8s.container.name': { type: 'string', on: 'workload', brief: 'Container name in the pod spec (absent for the pause sandbox).' },
  'cnproc.container.unresolved': {
    type: 'string',
    on: 'workload',
    brief:
      'Why the names are missing: no-state (no runtime state knows the id), unnamed (the state names nothing), too-large, malformed, vanished, denied or io-error. Absent when resolved.',
  },
  'cnproc.process.systemd_unit': { type: 'string', on: 'all', brief: 'systemd service or scope of a host process.' },
  'cnproc.process.entity_id': {
    type: 'string',
    on: 'all',
    brief: 'Stable process id: hash of boot id, pid and start time; survives pid reuse and agent restarts.',
  },
  'cnproc.process.parent_entity_id': { type: 'string', on: 'all', brief: "The parent's cnproc.process.entity_id." },
  'cnproc.process.parent.executable.path': { type: 'string', on: 'full', brief: "The parent's executable." },
  'cnproc.process.ancestors': { type: 'string[]', on: 'full', brief: 'Executables of parent, grandparent, ... (process.ancestryDepth).' },
  'cnproc.process.missing': {
    type: 'string[]',
    on: 'all',
    brief: '"field:reason" for every field the /proc read missed (gone, denied, empty, failed).',
  },
  'cnproc.exec.snapshot_superseded': {
    type: 'boolean',
    on: 'exec',
    brief:
      'The /proc read came after a later exec of the same process: executable, argv and ids describe that later program, not this exec.',
  },
  'cnproc.exec.escalated': {
    type: 'boolean',
    on: 'exec',
    brief:
      'The exec raised privileges (true only; absent otherwise): see cnproc.exec.escalation.mechanisms. Cost: no syscall; ~25 ns per exec (npm run bench -- security).',
  },
  'cnproc.exec.escalation.mechanisms': {
    type: 'string[]',
    on: 'exec',
    brief:
      'How: setuid / setgid (a set-id file: the effective id changed to one that is not the real id), file_capabilities (permitted capabilities gained by a non-root exec), ptrace (a tracer less privileged than the new program attached since the previous exec).',
  },
  'cnproc.exec.escalation.tracer.pid': {
    type: 'int',
    on: 'exec',
    brief: 'ptrace mechanism: the tracer that attached since the previous exec.',
  },
  'cnproc.exec.escalation.capabilities_gained': {
    type: 'string[]',
    on: 'exec',
    brief: 'Permitted capabilities the escalating exec gained (absent when none or unknown).',
  },
  'cnproc.exec.escalation.previous_user.id': { type: 'int', on: 'exec', brief: 'Effective uid before the escalating exec.' },
  'cnproc.exec.escalation.previous_group.id': { type: 'int', on: 'exec', brief: 'Effective gid before the escalating exec.' },
  'process.exit.code': { type: 'int', on: 'exit', brief: 'Exit code (absent when killed by a signal).' },
  'process.exit.time': { type: 'string', on: 'exit', brief: 'Exit time, ISO 8601.' },
  'cnproc.exit.status': { type: 'int', on: 'exit', brief: 'Raw wait status.' },
  'cnproc.exit.signal': { type: 'int', on: 'exit', brief: 'Signal that killed the process.' },
  'cnproc.exit.core_dumped': { type: 'boolean', on: 'exit', brief: 'The signal death dumped core.' },
  'cnproc.process.lifetime_ns': { type: 'int', on: 'exit', brief: 'Nanoseconds from start to exit.' },
  'cnproc.previous.real_user.id': { type: 'int', on: 'uid_change', brief: 'Real uid before the change (when known).' },
  'cnproc.previous.user.id': { type: 'int', on: 'uid_change', brief: 'Effective uid before the change (when known).' },
  'cnproc.previous.real_group.id': { type: 'int', on: 'gid_change', brief: 'Real gid before the change (when known).' },
  'cnproc.previous.group.id': { type: 'int', on: 'gid_change', brief: 'Effective gid before the change (when known).' },
  'cnproc.previous.comm': { type: 'string', on: 'comm_change', brief: 'comm before the change (when known).' },
  'cnproc.previous.session_leader.pid': { type: 'int', on: 'sid_change', brief: 'Session before setsid (when known).' },
  'cnproc.ptrace.attach': { type: 'boolean', on: 'ptrace', brief: 'true: a tracer attached; false: detached.' },
  'cnproc.ptrace.tracer.pid': { type: 'int', on: 'ptrace', brief: 'Tracer process id.' },
  'cnproc.ptrace.tracer.executable.path': { type: 'string', on: 'ptrace', brief: "Tracer's executable." },
  'cnproc.ptrace.tracer.user.id': { type: 'int', on: 'ptrace', brief: "Tracer's effective uid (attach; when known)." },
  'cnproc.ptrace.escalated': {
    type: 'boolean',
    on: 'ptrace',
    brief:
      'The tracer is less privileged than the process it attached to (true only): the process runs as root and the tracer does not, or holds permitted capabilities the tracer lacks. The kernel allows that only to a tracer with cap_sys_ptrace (or through a bug). Cost: no syscall.',
  },
  'cnproc.ptrace.escalation.capabilities_gained': {
    type: 'string[]',
    on: 'ptrace',
    brief: "Escalating attach: the tracee's permitted capabilities the tracer lacks (absent when none or unknown).",
  },
  'cnproc.ptrace.tracer.capabilities.effective': {
    type: 'string[]',
    on: 'ptrace',
    brief: "Escalating attach: the tracer's effective capabilities (how it got through, e.g. cap_sys_ptrace), when known.",
  },
  'cnproc.uid_change.escalated': {
    type: 'boolean',
    on: 'uid_change',
    brief:
      'The change made the effective uid 0 while none of the real, effective and saved uids was 0 before (true only): only cap_setuid allows it. Evidence: cnproc.previous.*. Known for the first id change after an exec (later, the saved uid is unknown and nothing is flagged).',
  },
  'cnproc.previous.saved_user.id': { type: 'int', on: 'uid_change', brief: 'Escalating uid change: the saved uid before it.' },
  'cnproc.previous.capabilities.effective': {
    type: 'string[]',
    on: 'uid_change',
    brief: 'Escalating uid change: the effective capabilities before it (e.g. cap_setuid), when known.',
  },
  'cnproc.unknown.what': { type: 'int', on: 'unknown', brief: "The kernel's event type number this agent does not know." },
  'cnproc.unknown.raw': { type: 'string', on: 'unknown', brief: 'The 40 bytes of struct proc_event, hex.' },
  'cnproc.loss.kernel_drops': {
    type: 'int',
    on: 'cnproc.loss',
    brief: 'Events the kernel dropped for our socket since the last report (receive queue full).',
  },
  'cnproc.loss.seq_gaps': {
    type: 'int',
    on: 'cnproc.loss',
    brief: 'Events missing from kernel sequence numbers since the last report (only when every type is subscribed).',
  },
  'cnproc.loss.handoff': { type: 'int', on: 'cnproc.loss', brief: 'Events dropped between capture and main thread since the last report.' },
  'cnproc.loss.malformed': { type: 'int', on: 'cnproc.loss', brief: 'Malformed datagrams skipped since the last report.' },
  'cnproc.loss.export_queue_full': {
    type: 'int',
    on: 'cnproc.loss',
    brief: 'Records dropped because an export queue was full, since the last report.',
  },
  'cnproc.loss.export_failed': {
    type: 'int',
    on: 'cnproc.loss',
    brief: 'Records in exports that failed or timed out, since the last report.',
  },
  'cnproc.loss.rate_limit': { type: 'int', on: 'cnproc.loss', brief: 'Events dropped by a rate limit since the last report.' },
  'cnproc.loss.priority': {
    type: 'int',
    on: 'cnproc.loss',
    brief: 'Events of low-priority types dropped at the top of the pressure ladder since the last report.',
  },
  'cnproc.loss.export_rejected': {
    type: 'int',
    on: 'cnproc.loss',
    brief: 'Records the collector refused for good (non-retryable answer or partial success) since the last report.',
  },
  'cnproc.loss.spool_full': {
    type: 'int',
    on: 'cnproc.loss',
    brief: 'Records dropped from the spool (oldest first) because it reached delivery.spoolMaxBytes, since the last report.',
  },
  'cnproc.loss.spool_corrupt': {
    type: 'int',
    on: 'cnproc.loss',
    brief: 'Batches found corrupt or truncated in the spool and skipped, since the last report.',
  },
  'cnproc.loss.downtime.ms': {
    type: 'int',
    on: 'cnproc.loss',
    brief: "After a restart: time from the previous run's last saved state to this start.",
  },
  'cnproc.loss.downtime.forks': {
    type: 'int',
    on: 'cnproc.loss',
    brief: 'After a restart: processes and threads forked while the agent was not listening (/proc/stat processes).',
  },
  'cnproc.loss.downtime.generated': {
    type: 'int',
    on: 'cnproc.loss',
    brief: 'After a restart: events the kernel generated meanwhile, from per-CPU seq (0 unless another listener kept the connector on).',
  },
  'cnproc.loss.downtime.clean': {
    type: 'boolean',
    on: 'cnproc.loss',
    brief: 'After a restart: the previous run stopped cleanly (counts exact) or not (upper bounds).',
  },
  'cnproc.storm.parent.pid': { type: 'int', on: 'cnproc.storm', brief: 'Parent of the storming processes.' },
  'cnproc.storm.parent_entity_id': { type: 'string', on: 'cnproc.storm', brief: "The parent's cnproc.process.entity_id." },
  'cnproc.storm.parent.executable.path': { type: 'string', on: 'cnproc.storm', brief: "The parent's executable." },
  'cnproc.storm.executable.path': { type: 'string', on: 'cnproc.storm', brief: 'Executable of the storming processes.' },
  'cnproc.storm.count.fork': { type: 'int', on: 'cnproc.storm', brief: 'Fork events aggregated in the window.' },
  'cnproc.storm.count.exec': { type: 'int', on: 'cnproc.storm', brief: 'Exec events aggregated in the window.' },
  'cnproc.storm.count.exit': { type: 'int', on: 'cnproc.storm', brief: 'Exit events aggregated in the window.' },
  'cnproc.storm.count.comm': { type: 'int', on: 'cnproc.storm', brief: 'Comm changes aggregated in the window.' },
  'cnproc.storm.count.sid': { type: 'int', on: 'cnproc.storm', brief: 'setsid events aggregated in the window.' },
  'cnproc.storm.count.total': { type: 'int', on: 'cnproc.storm', brief: 'All events aggregated in the window.' },
  'cnproc.storm.first_time': { type: 'string', on: 'cnproc.storm', brief: 'Kernel time of the first aggregated event, ISO 8601.' },
  'cnproc.storm.last_time': { type: 'string', on: 'cnproc.storm', brief: 'Kernel time of the last aggregated event, ISO 8601.' },
  'cnproc.storm.sample_pids': { type: 'int[]', on: 'cnproc.storm', brief: 'A few of the process ids.' },
  'cnproc.storm.window_ms': { type: 'int', on: 'cnproc.storm', brief: 'How long the window was open.' },
  'cnproc.pressure.level': {
    type: 'int',
    on: 'cnproc.storm, cnproc.stats',
    brief: 'Pressure ladder level: 0 normal, 1 shed, 2 aggregate, 3 drop.',
  },
  'cnproc.stats.aggregated': { type: 'int', on: 'cnproc.stats', brief: 'Events absorbed into cnproc.storm records since start.' },
  'cnproc.stats.datagrams': { type: 'int', on: 'cnproc.stats', brief: 'Datagrams read from the socket since start.' },
  'cnproc.stats.delivered': { type: 'int', on: 'cnproc.stats', brief: 'Events decoded and passed on since start.' },
  'cnproc.stats.filtered': { type: 'int', on: 'cnproc.stats', brief: 'Events dropped because the configuration did not want them.' },
  'cnproc.stats.kernel_drops': { type: 'int', on: 'cnproc.stats', brief: 'Kernel drops since start.' },
  'cnproc.stats.seq_gaps': { type: 'int', on: 'cnproc.stats', brief: 'Sequence gaps since start.' },
  'cnproc.stats.handoff_dropped': { type: 'int', on: 'cnproc.stats', brief: 'Handoff drops since start.' },
  'cnproc.stats.malformed': { type: 'int', on: 'cnproc.stats', brief: 'Malformed datagrams since start.' },
  'cnproc.stats.processes': { type: 'int', on: 'cnproc.stats', brief: 'Processes in the process table.' },
  'cnproc.stats.processes_evicted': { type: 'int', on: 'cnproc.stats', brief: 'Process-table evictions since start.' },
  'cnproc.stats.executables_hashed': {
    type: 'int',
    on: 'cnproc.stats',
    brief:
      'Executable files hashed since start (with process.hashExecutables; by reason skipped: cnproc_executable_hashes_total on /metrics).',
  },
  'cnproc.stats.executable_hashes_skipped': {
    type: 'int',
    on: 'cnproc.stats',
    brief: 'Executable files not hashed since start, all reasons.',
  },
  'cnproc.stats.exec_hash_late': {
    type: 'int',
    on: 'cnproc.stats',
    brief: "Exec records that went out before their file's hash was known (a later record of the process carries it), since start.",
  },
  'cnproc.stats.exported': { type: 'int', on: 'cnproc.stats', brief: 'Records exported (all exporters) since start.' },
  'cnproc.stats.export_dropped': {
    type: 'int',
    on: 'cnproc.stats',
    brief: 'Records dropped by exporters (queue full, failed, timeout) since start.',
  },
  // Totals since start of each cnproc.loss.* cause (src/telemetry/snapshot.ts LOSS_CAUSES): the sum
  // of the cnproc.loss records so far, and the same as cnproc_loss_total{cause} and the stop summary.
  'cnproc.stats.lost.kernel_drops': { type: 'int', on: 'cnproc.stats', brief: 'Total of cnproc.loss.kernel_drops since start.' },
  'cnproc.stats.lost.seq_gaps': { type: 'int', on: 'cnproc.stats', brief: 'Total of cnproc.loss.seq_gaps since start.' },
  'cnproc.stats.lost.handoff': { type: 'int', on: 'cnproc.stats', brief: 'Total of cnproc.loss.handoff since start.' },
  'cnproc.stats.lost.malformed': { type: 'int', on: 'cnproc.stats', brief: 'Total of cnproc.loss.malformed since start.' },
  'cnproc.stats.lost.export_queue_full': {
    type: 'int',
    on: 'cnproc.stats',
    brief: 'Total of cnproc.loss.export_queue_full since start.',
  },
  'cnproc.stats.lost.export_failed': { type: 'int', on: 'cnproc.stats', brief: 'Total of cnproc.loss.export_failed since start.' },
  'cnproc.stats.lost.rate_limit': { type: 'int', on: 'cnproc.stats', brief: 'Total of cnproc.loss.rate_limit since start.' },
  'cnproc.stats.lost.priority': { type: 'int', on: 'cnproc.stats', brief: 'Total of cnproc.loss.priority since start.' },
  'cnproc.stats.lost.export_rejected': { type: 'int', on: 'cnproc.stats', brief: 'Total of cnproc.loss.export_rejected since start.' },
  'cnproc.stats.lost.spool_full': { type: 'int', on: 'cnproc.stats', brief: 'Total of cnproc.loss.spool_full since start.' },
  'cnproc.stats.lost.spool_corrupt': { type: 'int', on: 'cnproc.stats', brief: 'Total of cnproc.loss.spool_corrupt since start.' },
} as const satisfies Record<string, AttrDoc>;

export type AttrName = keyof typeof ATTRIBUTE_DOCS;

/** Names and values that need a lookup the mapping does not own. */
export interface MappingContext {
  userName(uid: number): string | undefined;
  groupName(gid: number): string | undefined;
  /** Redacts secrets in argv; same array back when nothing was redacted. */
  redact(argv: readonly string[]): { argv: readonly string[]; redacted: boolean };
  /**
   * Full records also carry their workload's names (the 'workload' attributes). The library does
   * this by default: a caller's LoggerProvider has one resource. The agent does not: its records are
   * grouped under a resource per workload that carries them (otel/workload-resource.ts).
   */
  workloadAttributes?: boolean;
}

const workloadCache = new WeakMap<Workload, Readonly<LogAttributes>>();

/**
 * The attributes that say who runs a process: its workload resource's (beside the host's) and, in
 * the library, its full records'. Computed once per workload (workloads are immutable and shared).
 */
export function workloadAttributes(w: Workload): Readonly<LogAttributes> {
  let a = workloadCache.get(w);
  if (a !== undefined) return a;
  const o: Partial<Attrs> = { 'container.id': w.containerId };
  if (w.runtime !== null) o['cnproc.container.runtime'] = w.runtime;
  if (w.containerName !== null) o['container.name'] = w.containerName;
  if (w.imageName !== null) o['container.image.name'] = w.imageName;
  if (w.imageTag !== null) o['container.image.tags'] = [w.imageTag];
  if (w.imageId !== null) o['container.image.id'] = w.imageId;
  if (w.podUid !== null) o['k8s.pod.uid'] = w.podUid;
  if (w.podName !== null) o['k8s.pod.name'] = w.podName;
  if (w.namespace !== null) o['k8s.namespace.name'] = w.namespace;
  if (w.k8sContainerName !== null) o['k8s.container.name'] = w.k8sContainerName;
  if (w.unresolved !== null) o['cnproc.container.unresolved'] = w.unresolved;
  a = Object.freeze(o) as LogAttributes;
  workloadCache.set(w, a);
  return a;
}

function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/**
 * Records about a process that did not establish a program of its own carry only its identity
 * ("lean"): a fork (the child runs its parent's program, with its parent's argv, ids and cgroup, all
 * already on the parent's records, linked by cnproc.process.parent_entity_id), a thread's exit (the
 * process's records carry its context), and the exit of a forked child that never exec'd. Everything
 * else carries the full process context: exec, the exit of a process that exec'd (or was running when
 * the agent started), and the rarer uid/gid/sid/comm/ptrace/coredump/unknown events.
 *
 * Why: fork storms are forks and exits of children that never exec. Copying the parent's ~40
 * attributes into each of those records cost about three times the CPU of a lean record (export
 * benchmark) and sent the same bytes again; and the OpenTelemetry SDK copies attributes one by one into
 * an object that V8 keeps in fast mode only up to about 19 properties (above that, setAttributes costs
 * twice as much per attribute), so lean records stay at or below that (attributes.test.ts checks it).
 */
export function isLeanRecord(x: EnrichedEvent): boolean {
  const e = x.event;
  if (e.kind === 'fork') return true;
  if (e.kind === 'exit') return e.isThread || x.process?.source === 'fork';
  return false;
}

/** ISO-8601 of the last second formatted ("2026-11-26T01:23:45."): storms stay within one second for thousands of events. */
let isoSecond = Number.NaN;
let isoPrefix = '';

/** isoNanos (util/time.ts), without a Date and toISOString per call while the second does not change. */
export function isoTime(t: HrTime): string {
  if (t[0] !== isoSecond) {
    isoPrefix = `${new Date(t[0] * 1000).toISOString().slice(0, 19)}.`;
    isoSecond = t[0];
  }
  const ns = t[1];
  return `${isoPrefix}${ns >= 100_000_000 ? ns : String(ns).padStart(9, '0')}Z`;
}

/**
 * A lean record's attributes from its process (see isLeanRecord): the 'all' attributes of
 * ATTRIBUTE_DOCS, with the same values as fullAttributes gives them (attributes.test.ts checks
 * both). Nothing here is worth caching: the one computed value, the creation time, reuses isoTime's
 * formatted second.
 */
function leanAttributes(a: Partial<Attrs>, p: ProcessInfo): void {
  if (p.ppid !== null) a['process.parent_pid'] = p.ppid;
  if (p.exe !== null) a['process.executable.path'] = p.exe;
  if (p.euid !== null) a['process.user.id'] = p.euid;
  if (p.startTime) a['process.creation.time'] = isoTime(p.startTime);
  if (p.containerId !== null) a['container.id'] = p.containerId;
  if (p.podUid !== null) a['k8s.pod.uid'] = p.podUid;
  if (p.systemdUnit !== null) a['cnproc.process.systemd_unit'] = p.systemdUnit;
  if (p.entityId !== null) a['cnproc.process.entity_id'] = p.entityId;
  if (p.parentEntityId !== null) a['cnproc.process.parent_entity_id'] = p.parentEntityId;
  if (p.missing.length > 0) a['cnproc.process.missing'] = p.missing as string[];
}

/**
 * The values of a full record that are computed from a process table entry rather than copied:
 * redacted argv and command line, user and group names, executable name, ISO creation time.
 * Computed once per entry, on its first full record, and reused by the entry's later records (an
 * exec'd process's exit, its uid/comm/... events, and those of processes seen at start-up): entries
 * are immutable (a change makes a new entry, see process/model.ts), so these cannot go stale, except
 * through the mapping context, which is checked (a configuration reload replaces `redact`), and a user
 * renamed while the process runs (its records keep the name of its first full record). The cost is
 * memory while the entry lives: mainly the joined command line beside the argv it is made of.
 */
interface Derived {
  ctx: MappingContext;
  redact: MappingContext['redact'];
  exeName: string | null;
  /** Redacted argv; null when the entry has none (or an empty one). */
  argv: string[] | null;
  commandLine: string;
  redacted: boolean;
  userName: string | undefined;
  realUserName: string | undefined;
  savedUserName: string | undefined;
  groupName: string | undefined;
  loginUserName: string | undefined;
  creationTime: string | null;
  /** memfd / deleted (process/executable.ts); null for a file still there. */
  origin: ExecutableOrigin | null;
  /** The executable file's facts as attribute values (the hash is read live: it comes later). */
  file: FileValues | null;
  /** Capability names (capabilities.ts); null when unknown. */
  capEffective: string[] | null;
  capPermitted: string[] | null;
  /** The full attributes as a split record's shared block, made on the entry's first split record. */
  block?: ProcessBlock;
  /** The program file's hash state when the block was made (the block is made again when it changes). */
  blockHashState?: string | null;
}

interface FileValues {
  inode: string;
  device: string;
  mtime: string;
  mode: string;
}

/** The executable file's values that take formatting, once per file identity (shared by its processes). */
const fileCache = new WeakMap<ExecutableFile, FileValues>();

function fileValues(f: ExecutableFile): FileValues {
  let v = fileCache.get(f);
  if (v !== undefined) return v;
  const ns = f.mtimeNs;
  const sec = Number(ns / 1_000_000_000n);
  const t: HrTime = [sec, Number(ns - BigInt(sec) * 1_000_000_000n)];
  v = {
    inode: String(f.ino),
    device: `${f.devMajor}:${f.devMinor}`,
    mtime: `${new Date(sec * 1000).toISOString().slice(0, 19)}.${String(t[1]).padStart(9, '0')}Z`,
    mode: (f.mode & 0o7777).toString(8).padStart(4, '0'),
  };
  fileCache.set(f, v);
  return v;
}

/** The executable file's attributes (full records). */
function fileAttributes(a: Partial<Attrs>, f: ExecutableFile, v: FileValues): void {
  if (f.buildId !== null) a['process.executable.build_id.gnu'] = f.buildId;
  else if (f.buildIdMissing !== null) a['cnproc.process.executable.build_id_missing'] = f.buildIdMissing;
  if (f.sha256 !== null) a['cnproc.process.executable.hash.sha256'] = f.sha256;
  else if (f.hashState !== 'off') a['cnproc.process.executable.hash.missing'] = f.hashState;
  a['cnproc.process.executable.size'] = f.size;
  a['cnproc.process.executable.inode'] = v.inode;
  a['cnproc.process.executable.device'] = v.device;
  a['cnproc.process.executable.mtime'] = v.mtime;
  a['cnproc.process.executable.owner.id'] = f.uid;
  a['cnproc.process.executable.group.id'] = f.gid;
  a['cnproc.process.executable.mode'] = v.mode;
}

/** Keyed by entry, weakly: an entry leaving the process table (and every event holding it) takes its values along. */
const derivedCache = new WeakMap<ProcessInfo, Derived>();

function derivedOf(p: ProcessInfo, ctx: MappingContext): Derived {
  const c = derivedCache.get(p);
  if (c !== undefined && c.ctx === ctx && c.redact === ctx.redact) return c;
  let argv: string[] | null = null;
  let redacted = false;
  if (p.argv !== null && p.argv.length > 0) {
    const r = ctx.redact(p.argv);
    argv = r.argv as string[];
    redacted = r.redacted;
  }
  const d: Derived = {
    ctx,
    redact: ctx.redact,
    exeName: p.exe !== null ? basename(p.exe) : null,
    argv,
    commandLine: argv !== null ? argv.join(' ') : '',
    redacted,
    userName: p.euid !== null ? ctx.userName(p.euid) : undefined,
    realUserName: p.ruid !== null ? ctx.userName(p.ruid) : undefined,
    savedUserName: p.suid !== null ? ctx.userName(p.suid) : undefined,
    groupName: p.egid !== null ? ctx.groupName(p.egid) : undefined,
    loginUserName: p.loginUid !== null ? ctx.userName(p.loginUid) : undefined,
    creationTime: p.startTime ? isoTime(p.startTime) : null,
    origin: executableOrigin(p.exe),
    file: p.exeFile !== null ? fileValues(p.exeFile) : null,
    capEffective: p.capEffective !== null ? capabilityNames(p.capEffective) : null,
    capPermitted: p.capPermitted !== null ? capabilityNames(p.capPermitted) : null,
  };
  derivedCache.set(p, d);
  return d;
}

/**
 * A full record's attributes from its process. Constant keys, one store each: V8 then keeps the
 * record's attribute object in fast mode with monomorphic stores, and the SDK's copy of it (Object.entries)
 * is cheaper; copying cached key/value lists with computed keys measured 60 % slower per record.
 */
function fullAttributes(a: Partial<Attrs>, p: ProcessInfo, d: Derived): void {
  if (p.ppid !== null) a['process.parent_pid'] = p.ppid;
  if (p.exe !== null) {
    a['process.executable.path'] = p.exe;
    a['process.executable.name'] = d.exeName as string;
    if (d.origin !== null) {
      a['cnproc.process.executable.fileless'] = true;
      a['cnproc.process.executable.origin'] = d.origin;
    }
    const m = p.exeMount;
    if (m !== null) {
      if (m.kind === 'tmpfs') a['cnproc.process.executable.tmpfs'] = true;
      else {
        a['cnproc.process.executable.upper_layer'] = true;
        a['cnproc.process.executable.upper_dir'] = m.upperDir as string;
      }
      a['cnproc.process.executable.mount.point'] = m.mountPoint;
      a['cnproc.process.executable.mount.type'] = m.fsType;
    }
  }
  if (d.file !== null) {
    const f = p.exeFile as ExecutableFile;
    fileAttributes(a, f, d.file);
    if (writableByUser(f, p.euid, p.egid) === true) a['cnproc.process.executable.writable_by_user'] = true;
  }
  if (d.argv !== null) {
    a['process.command'] = d.argv[0] as string;
    a['process.command_args'] = d.argv;
    a['process.command_line'] = d.commandLine;
    a['process.args_count'] = (p.argv as readonly string[]).length;
    if (p.argvTruncated) a['cnproc.process.args_truncated'] = true;
    if (d.redacted) a['cnproc.process.args_redacted'] = true;
  }
  if (p.cwd !== null) a['process.working_directory'] = p.cwd;
  if (p.comm !== null) a['cnproc.process.comm'] = p.comm;
  if (p.euid !== null) {
    a['process.user.id'] = p.euid;
    if (d.userName !== undefined) {
      a['process.user.name'] = d.userName;
      a['process.owner'] = d.userName;
    }
  }
  if (p.ruid !== null) {
    a['process.real_user.id'] = p.ruid;
    if (d.realUserName !== undefined) a['process.real_user.name'] = d.realUserName;
  }
  if (p.suid !== null) {
    a['process.saved_user.id'] = p.suid;
    if (d.savedUserName !== undefined) a['process.saved_user.name'] = d.savedUserName;
  }
  if (p.egid !== null) {
    a['cnproc.process.group.id'] = p.egid;
    if (d.groupName !== undefined) a['cnproc.process.group.name'] = d.groupName;
  }
  if (p.rgid !== null) a['cnproc.process.real_group.id'] = p.rgid;
  if (p.sgid !== null) a['cnproc.process.saved_group.id'] = p.sgid;
  if (d.capEffective !== null) {
    a['cnproc.process.capabilities.effective'] = d.capEffective;
    a['cnproc.process.privileged'] = isPrivileged(p.euid, p.capEffective);
  }
  if (d.capPermitted !== null) a['cnproc.process.capabilities.permitted'] = d.capPermitted;
  if (p.namespaces !== null) namespaceAttributes(a, p.namespaces);
  if (p.loginUid !== null) {
    a['cnproc.process.login_user.id'] = p.loginUid;
    if (d.loginUserName !== undefined) a['cnproc.process.login_user.name'] = d.loginUserName;
  }
  if (p.auditSessionId !== null) a['cnproc.process.audit_session.id'] = p.auditSessionId;
  if (p.sid !== null) a['process.session_leader.pid'] = p.sid;
  if (p.pgid !== null) a['process.group_leader.pid'] = p.pgid;
  if (p.ttyNr !== null) a['process.interactive'] = p.ttyNr !== 0;
  if (d.creationTime !== null) a['process.creation.time'] = d.creationTime;
  if (p.cgroup !== null) a['process.linux.cgroup'] = p.cgroup;
  if (p.containerId !== null) a['container.id'] = p.containerId;
  if (p.containerRuntime !== null) a['cnproc.container.runtime'] = p.containerRuntime;
  if (p.podUid !== null) a['k8s.pod.uid'] = p.podUid;
  if (p.systemdUnit !== null) a['cnproc.process.systemd_unit'] = p.systemdUnit;
  if (p.entityId !== null) a['cnproc.process.entity_id'] = p.entityId;
  if (p.parentEntityId !== null) a['cnproc.process.parent_entity_id'] = p.parentEntityId;
  if (p.missing.length > 0) a['cnproc.process.missing'] = p.missing as string[];
}

/** The event's identity: the first HEAD_KEYS (split-attributes.ts) keys of every process-event record. */
function headAttributes(x: EnrichedEvent, eventName: string): Partial<Attrs> {
  const e = x.event;
  return {
    'cnproc.event.name': eventName,
    'cnproc.event.id': `${e.cpu}-${e.seq}`,
    'cnproc.event.cpu': e.cpu,
    'cnproc.event.seq': e.seq,
    'process.pid': e.tgid,
    'thread.id': e.pid,
  };
}

/** The attributes of one process-event record. */
export function recordAttributes(x: EnrichedEvent, eventName: string, ctx: MappingContext): LogAttributes {
  const a = headAttributes(x, eventName);
  const lean = isLeanRecord(x);
  const p = x.process;
  if (p) {
    if (lean) leanAttributes(a, p);
    else fullAttributes(a, p, derivedOf(p, ctx));
  }
  eventAttributes(a, x, lean, ctx);
  return a as LogAttributes;
}

/**
 * The same attributes as recordAttributes, split (split-attributes.ts): the process's full
 * attributes as the entry's shared block, the rest in the record's own object. Only for exec and
 * exit records with full attributes, whose own keys never repeat a block key; and not when full
 * records carry the workload's names (container.id would be in both). null: not splittable, use
 * recordAttributes.
 */
export function splitRecordAttributes(x: EnrichedEvent, eventName: string, ctx: MappingContext): SplitAttributes | null {
  const kind = x.event.kind;
  const p = x.process;
  if ((kind !== 'exec' && kind !== 'exit') || p === undefined || isLeanRecord(x)) return null;
  if (ctx.workloadAttributes && x.workload) return null;
  const d = derivedOf(p, ctx);
  let block = d.block;
  // The one value of an entry that changes: its program's hash, filled in by the hasher after the
  // exec record left (the exit then carries it). A block made before is made again.
  const hashState = p.exeFile?.hashState ?? null;
  if (block === undefined || d.blockHashState !== hashState) {
    const attrs: Partial<Attrs> = {};
    fullAttributes(attrs, p, d);
    block = { attrs: Object.freeze(attrs) as LogAttributes, encoded: undefined };
    d.block = block;
    d.blockHashState = hashState;
  }
  const own = headAttributes(x, eventName);
  eventAttributes(own, x, false, ctx);
  return { own: own as LogAttributes, block };
}

/** After the process's: its workload, parent and ancestors (full records), and what the event itself says. */
function eventAttributes(a: Partial<Attrs>, x: EnrichedEvent, lean: boolean, ctx: MappingContext): void {
  const e = x.event;
  if (!lean) {
    if (ctx.workloadAttributes && x.workload) Object.assign(a, workloadAttributes(x.workload));
    if (x.parent?.exe) a['cnproc.process.parent.executable.path'] = x.parent.exe;
    if (x.ancestors.length > 0) a['cnproc.process.ancestors'] = x.ancestors as string[];
  }
  const prev = x.previous;
  switch (e.kind) {
    case 'fork':
      a['process.parent_pid'] = e.parentTgid;
      a['cnproc.thread.is_thread'] = e.isThread;
      break;
    case 'exec':
      if (e.snapshotSuperseded === true) a['cnproc.exec.snapshot_superseded'] = true;
      if (x.escalation) escalationAttributes(a, x.escalation);
      break;
    case 'exit':
      a['cnproc.thread.is_thread'] = e.isThread;
      a['cnproc.exit.status'] = e.status;
      a['process.exit.time'] = isoTime(e.time);
      if (e.exitCode !== null) a['process.exit.code'] = e.exitCode;
      if (e.signal !== null) a['cnproc.exit.signal'] = e.signal;
      if (e.coreDumped) a['cnproc.exit.core_dumped'] = true;
      if (x.lifetimeNs !== null) a['cnproc.process.lifetime_ns'] = x.lifetimeNs;
      break;
    case 'uid':
      a['process.real_user.id'] = e.ruid;
      a['process.user.id'] = e.euid;
      put(a, 'cnproc.previous.real_user.id', prev?.ruid);
      put(a, 'cnproc.previous.user.id', prev?.euid);
      if (x.escalation) {
        a['cnproc.uid_change.escalated'] = true;
        put(a, 'cnproc.previous.saved_user.id', x.escalation.previousSuid);
        const caps = x.escalation.previousCapEffective;
        if (caps !== null && caps !== undefined) a['cnproc.previous.capabilities.effective'] = capabilityNames(caps);
      }
      break;
    case 'gid':
      a['cnproc.process.real_group.id'] = e.rgid;
      a['cnproc.process.group.id'] = e.egid;
      put(a, 'cnproc.previous.real_group.id', prev?.rgid);
      put(a, 'cnproc.previous.group.id', prev?.egid);
      break;
    case 'sid':
      put(a, 'cnproc.previous.session_leader.pid', prev?.sid);
      break;
    case 'comm':
      a['cnproc.process.comm'] = e.comm;
      put(a, 'cnproc.previous.comm', prev?.comm);
      break;
    case 'ptrace':
      a['cnproc.ptrace.attach'] = e.attach;
      if (e.attach) {
        a['cnproc.ptrace.tracer.pid'] = e.tracerTgid;
        put(a, 'cnproc.ptrace.tracer.executable.path', x.tracer?.exe);
        put(a, 'cnproc.ptrace.tracer.user.id', x.tracer?.euid);
        const esc = x.escalation;
        if (esc) {
          a['cnproc.ptrace.escalated'] = true;
          if (esc.gained !== 0) a['cnproc.ptrace.escalation.capabilities_gained'] = capabilityNames(esc.gained);
          const caps = esc.tracerCapEffective;
          if (caps !== null && caps !== undefined) a['cnproc.ptrace.tracer.capabilities.effective'] = capabilityNames(caps);
        }
      }
      break;
    case 'unknown':
      a['cnproc.unknown.what'] = e.what;
      a['cnproc.unknown.raw'] = Buffer.from(e.raw).toString('hex');
      break;
    default:
      break;
  }
}

type Attrs = Record<AttrName, AnyValue>;

/** An escalating exec's evidence (rare: not worth caching). */
function escalationAttributes(a: Partial<Attrs>, esc: Escalation): void {
  a['cnproc.exec.escalated'] = true;
  a['cnproc.exec.escalation.mechanisms'] = esc.mechanisms as string[];
  if (esc.gained !== 0) a['cnproc.exec.escalation.capabilities_gained'] = capabilityNames(esc.gained);
  if (esc.previousEuid !== null) a['cnproc.exec.escalation.previous_user.id'] = esc.previousEuid;
  if (esc.previousEgid !== null) a['cnproc.exec.escalation.previous_group.id'] = esc.previousEgid;
  if (esc.tracerTgid !== undefined) a['cnproc.exec.escalation.tracer.pid'] = esc.tracerTgid;
}

/** process.namespaces: the inodes read and which are not the host's (only when on: not worth caching). */
function namespaceAttributes(a: Partial<Attrs>, ns: Namespaces): void {
  if (ns.pid !== null) a['cnproc.process.namespace.pid'] = ns.pid;
  if (ns.mnt !== null) a['cnproc.process.namespace.mnt'] = ns.mnt;
  if (ns.net !== null) a['cnproc.process.namespace.net'] = ns.net;
  if (ns.user !== null) a['cnproc.process.namespace.user'] = ns.user;
  if (ns.uts !== null) a['cnproc.process.namespace.uts'] = ns.uts;
  if (ns.ipc !== null) a['cnproc.process.namespace.ipc'] = ns.ipc;
  if (ns.cgroup !== null) a['cnproc.process.namespace.cgroup'] = ns.cgroup;
  if (ns.time !== null) a['cnproc.process.namespace.time'] = ns.time;
  if (ns.nonHost !== null) a['cnproc.process.namespaces.non_host'] = ns.nonHost as string[];
}

function put(a: Partial<Attrs>, name: AttrName, v: AnyValue | null | undefined): void {
  if (v !== null && v !== undefined) a[name] = v;
}
