/**
 * The attribute mapping: every attribute a process-event record can carry, named once here.
 *
 * Semantic-convention names (v1.44, process.* is release candidate) wherever one exists; everything
 * else under the project prefix `cnproc.`. docs/attributes.md is generated from ATTRIBUTE_DOCS
 * (`npm run docs:attributes`) and a test checks both that file and that the mapper emits nothing
 * undocumented.
 */
import type { AnyValue, LogAttributes } from '@opentelemetry/api-logs';
import type { EnrichedEvent, ProcessInfo } from '../process/model.js';
import { isoNanos } from '../util/time.js';

export type AttrType = 'string' | 'int' | 'boolean' | 'string[]' | 'int[]';

export interface AttrDoc {
  type: AttrType;
  /** Which records carry it ('all' or event names without the "process." prefix). */
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
  'process.executable.name': { type: 'string', on: 'all', brief: 'Base name of the executable path.' },
  'process.command': { type: 'string', on: 'all', brief: 'argv[0].' },
  'process.command_args': { type: 'string[]', on: 'all', brief: 'argv, escaped and with secrets redacted.' },
  'process.command_line': { type: 'string', on: 'all', brief: 'argv joined by spaces, escaped and with secrets redacted.' },
  'process.args_count': { type: 'int', on: 'all', brief: 'Number of arguments (before any truncation).' },
  'cnproc.process.args_truncated': {
    type: 'boolean',
    on: 'all',
    brief: 'The command line was longer than process.maxCommandLineBytes and was cut.',
  },
  'cnproc.process.args_redacted': { type: 'boolean', on: 'all', brief: 'At least one secret was replaced in the command line.' },
  'process.working_directory': { type: 'string', on: 'all', brief: 'Current directory at exec.' },
  'cnproc.process.comm': { type: 'string', on: 'all', brief: 'Kernel task name (comm, 15 bytes).' },
  'process.user.id': { type: 'int', on: 'all', brief: 'Effective uid.' },
  'process.user.name': { type: 'string', on: 'all', brief: 'Effective user name.' },
  'process.owner': { type: 'string', on: 'all', brief: 'Effective user name (semconv alias of process.user.name).' },
  'process.real_user.id': { type: 'int', on: 'all', brief: 'Real uid.' },
  'process.real_user.name': { type: 'string', on: 'all', brief: 'Real user name.' },
  'process.saved_user.id': { type: 'int', on: 'all', brief: 'Saved uid.' },
  'process.saved_user.name': { type: 'string', on: 'all', brief: 'Saved user name.' },
  'cnproc.process.group.id': { type: 'int', on: 'all', brief: 'Effective gid.' },
  'cnproc.process.group.name': { type: 'string', on: 'all', brief: 'Effective group name.' },
  'cnproc.process.real_group.id': { type: 'int', on: 'all', brief: 'Real gid.' },
  'cnproc.process.saved_group.id': { type: 'int', on: 'all', brief: 'Saved gid.' },
  'cnproc.process.login_user.id': { type: 'int', on: 'all', brief: 'Audit login uid; absent for processes outside any login (daemons).' },
  'cnproc.process.login_user.name': { type: 'string', on: 'all', brief: 'Audit login user name.' },
  'cnproc.process.audit_session.id': { type: 'int', on: 'all', brief: 'Audit session id.' },
  'process.session_leader.pid': { type: 'int', on: 'all', brief: 'Session leader pid (sid).' },
  'process.group_leader.pid': { type: 'int', on: 'all', brief: 'Process group leader pid.' },
  'process.interactive': { type: 'boolean', on: 'all', brief: 'Has a controlling terminal.' },
  'process.creation.time': {
    type: 'string',
    on: 'all',
    brief: 'Start time, ISO 8601 (fork time when seen, else boot time + start ticks).',
  },
  'process.linux.cgroup': { type: 'string', on: 'all', brief: 'cgroup path.' },
  'container.id': { type: 'string', on: 'all', brief: 'Container id from the cgroup path.' },
  'cnproc.container.runtime': { type: 'string', on: 'all', brief: 'docker, containerd, cri-o, podman or kubernetes.' },
  'k8s.pod.uid': { type: 'string', on: 'all', brief: 'Kubernetes pod uid from the cgroup path.' },
  'cnproc.process.systemd_unit': { type: 'string', on: 'all', brief: 'systemd service or scope of a host process.' },
  'cnproc.process.entity_id': {
    type: 'string',
    on: 'all',
    brief: 'Stable process id: hash of boot id, pid and start time; survives pid reuse and agent restarts.',
  },
  'cnproc.process.parent_entity_id': { type: 'string', on: 'all', brief: "The parent's cnproc.process.entity_id." },
  'cnproc.process.parent.executable.path': { type: 'string', on: 'all', brief: "The parent's executable." },
  'cnproc.process.ancestors': { type: 'string[]', on: 'all', brief: 'Executables of parent, grandparent, ... (process.ancestryDepth).' },
  'cnproc.process.missing': {
    type: 'string[]',
    on: 'all',
    brief: '"field:reason" for every field the /proc read missed (gone, denied, empty, failed).',
  },
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
  'cnproc.stats.exported': { type: 'int', on: 'cnproc.stats', brief: 'Records exported (all exporters) since start.' },
  'cnproc.stats.export_dropped': {
    type: 'int',
    on: 'cnproc.stats',
    brief: 'Records dropped by exporters (queue full, failed, timeout) since start.',
  },
} as const satisfies Record<string, AttrDoc>;

export type AttrName = keyof typeof ATTRIBUTE_DOCS;

/** Names and values that need a lookup the mapping does not own. */
export interface MappingContext {
  userName(uid: number): string | undefined;
  groupName(gid: number): string | undefined;
  /** Redacts secrets in argv; same array back when nothing was redacted. */
  redact(argv: readonly string[]): { argv: readonly string[]; redacted: boolean };
}

function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

type Attrs = Record<AttrName, AnyValue>;

function put(a: Partial<Attrs>, name: AttrName, v: AnyValue | null | undefined): void {
  if (v !== null && v !== undefined) a[name] = v;
}

function processAttributes(a: Partial<Attrs>, p: ProcessInfo, ctx: MappingContext): void {
  put(a, 'process.parent_pid', p.ppid);
  if (p.exe !== null) {
    a['process.executable.path'] = p.exe;
    a['process.executable.name'] = basename(p.exe);
  }
  if (p.argv !== null && p.argv.length > 0) {
    const r = ctx.redact(p.argv);
    a['process.command'] = r.argv[0] as string;
    a['process.command_args'] = r.argv as string[];
    a['process.command_line'] = r.argv.join(' ');
    a['process.args_count'] = p.argv.length;
    if (p.argvTruncated) a['cnproc.process.args_truncated'] = true;
    if (r.redacted) a['cnproc.process.args_redacted'] = true;
  }
  put(a, 'process.working_directory', p.cwd);
  put(a, 'cnproc.process.comm', p.comm);
  if (p.euid !== null) {
    a['process.user.id'] = p.euid;
    const n = ctx.userName(p.euid);
    if (n !== undefined) {
      a['process.user.name'] = n;
      a['process.owner'] = n;
    }
  }
  if (p.ruid !== null) {
    a['process.real_user.id'] = p.ruid;
    put(a, 'process.real_user.name', ctx.userName(p.ruid));
  }
  if (p.suid !== null) {
    a['process.saved_user.id'] = p.suid;
    put(a, 'process.saved_user.name', ctx.userName(p.suid));
  }
  if (p.egid !== null) {
    a['cnproc.process.group.id'] = p.egid;
    put(a, 'cnproc.process.group.name', ctx.groupName(p.egid));
  }
  put(a, 'cnproc.process.real_group.id', p.rgid);
  put(a, 'cnproc.process.saved_group.id', p.sgid);
  if (p.loginUid !== null) {
    a['cnproc.process.login_user.id'] = p.loginUid;
    put(a, 'cnproc.process.login_user.name', ctx.userName(p.loginUid));
  }
  put(a, 'cnproc.process.audit_session.id', p.auditSessionId);
  put(a, 'process.session_leader.pid', p.sid);
  put(a, 'process.group_leader.pid', p.pgid);
  if (p.ttyNr !== null) a['process.interactive'] = p.ttyNr !== 0;
  if (p.startTime) a['process.creation.time'] = isoNanos(p.startTime);
  put(a, 'process.linux.cgroup', p.cgroup);
  put(a, 'container.id', p.containerId);
  put(a, 'cnproc.container.runtime', p.containerRuntime);
  put(a, 'k8s.pod.uid', p.podUid);
  put(a, 'cnproc.process.systemd_unit', p.systemdUnit);
  put(a, 'cnproc.process.entity_id', p.entityId);
  put(a, 'cnproc.process.parent_entity_id', p.parentEntityId);
  if (p.missing.length > 0) a['cnproc.process.missing'] = p.missing as string[];
}

/** The attributes of one process-event record. */
export function recordAttributes(x: EnrichedEvent, eventName: string, ctx: MappingContext): LogAttributes {
  const e = x.event;
  const a: Partial<Attrs> = {
    'cnproc.event.name': eventName,
    'cnproc.event.id': `${e.cpu}-${e.seq}`,
    'cnproc.event.cpu': e.cpu,
    'cnproc.event.seq': e.seq,
    'process.pid': e.tgid,
    'thread.id': e.pid,
  };
  if (x.process) processAttributes(a, x.process, ctx);
  if (x.parent?.exe) a['cnproc.process.parent.executable.path'] = x.parent.exe;
  if (x.ancestors.length > 0) a['cnproc.process.ancestors'] = x.ancestors as string[];
  const prev = x.previous;
  switch (e.kind) {
    case 'fork':
      a['process.parent_pid'] = e.parentTgid;
      a['cnproc.thread.is_thread'] = e.isThread;
      break;
    case 'exit':
      a['cnproc.thread.is_thread'] = e.isThread;
      a['cnproc.exit.status'] = e.status;
      a['process.exit.time'] = isoNanos(e.time);
      put(a, 'process.exit.code', e.exitCode);
      put(a, 'cnproc.exit.signal', e.signal);
      if (e.coreDumped) a['cnproc.exit.core_dumped'] = true;
      put(a, 'cnproc.process.lifetime_ns', x.lifetimeNs);
      break;
    case 'uid':
      a['process.real_user.id'] = e.ruid;
      a['process.user.id'] = e.euid;
      put(a, 'cnproc.previous.real_user.id', prev?.ruid);
      put(a, 'cnproc.previous.user.id', prev?.euid);
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
      }
      break;
    case 'unknown':
      a['cnproc.unknown.what'] = e.what;
      a['cnproc.unknown.raw'] = Buffer.from(e.raw).toString('hex');
      break;
    default:
      break;
  }
  return a as LogAttributes;
}
