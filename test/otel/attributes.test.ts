import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { ProcEvent } from '../../src/kernel/events.js';
import {
  ATTRIBUTE_DOCS,
  isLeanRecord,
  isoTime,
  type MappingContext,
  recordAttributes,
  splitRecordAttributes,
} from '../../src/otel/attributes.js';
import { renderAttributesMarkdown } from '../../src/otel/attributes-doc.js';
import { bodyOf, EVENT_NAMES, severityOf, toLogRecord } from '../../src/otel/record.js';
import { joinAttributes } from '../../src/otel/split-attributes.js';
import type { ExecutableFile } from '../../src/process/executable-hash.js';
import { type EnrichedEvent, type ProcessInfo, unknownProcess } from '../../src/process/model.js';
import type { ExecutableMount } from '../../src/process/mounts.js';
import type { Namespaces } from '../../src/process/namespaces.js';
import type { Workload } from '../../src/process/workload.js';
import { isoNanos } from '../../src/util/time.js';
import { telemetrySnapshot } from '../helpers/stats.js';

const NO_SECRETS_REDACT: MappingContext['redact'] = (argv) =>
  argv.includes('--password=hunter2')
    ? { argv: argv.map((a) => a.replace('hunter2', '<redacted>')), redacted: true }
    : { argv, redacted: false };
const ctx: MappingContext = {
  userName: (uid) => ({ 0: 'root', 1000: 'alice' })[uid],
  groupName: (gid) => ({ 0: 'root', 100: 'users' })[gid],
  redact: NO_SECRETS_REDACT,
};
const proc: ProcessInfo = {
  ...unknownProcess(42, 7),
  entityId: 'e'.repeat(32),
  parentEntityId: 'p'.repeat(32),
  startTicks: 100,
  startTime: [1795656080, 123456789],
  comm: 'curl',
  exe: '/usr/bin/curl',
  argv: ['curl', '-s', '--password=hunter2', 'https://x'],
  argvTruncated: true,
  cwd: '/home/alice',
  ruid: 1000,
  euid: 0,
  suid: 0,
  rgid: 100,
  egid: 100,
  sgid: 100,
  // A setuid-root curl: every capability but cap_sys_resource (as a container's bounding set may leave).
  capEffective: 0x1fffeffffff,
  capPermitted: 0x1fffeffffff,
  loginUid: 1000,
  auditSessionId: 3,
  sid: 40,
  pgid: 41,
  ttyNr: 34816,
  cgroup: '/system.slice/docker-x.scope',
  containerId: 'c'.repeat(64),
  containerRuntime: 'docker',
  podUid: 'pod-1',
  systemdUnit: 'sshd.service',
  missing: ['cwd:denied'],
};
const hdr = { cpu: 1, seq: 99, ktimeNs: 5n, time: [1795656087, 5] as [number, number], pid: 42, tgid: 42 };
const events: ProcEvent[] = [
  { ...hdr, kind: 'fork', parentPid: 7, parentTgid: 7, isThread: false },
  { ...hdr, kind: 'exec' },
  {
    ...hdr,
    kind: 'exit',
    status: 0x8b,
    exitCode: null,
    signal: 11,
    coreDumped: true,
    exitSignal: 17,
    parentPid: 7,
    parentTgid: 7,
    isThread: false,
  },
  { ...hdr, kind: 'uid', ruid: 0, euid: 0 },
  { ...hdr, kind: 'gid', rgid: 0, egid: 0 },
  { ...hdr, kind: 'sid' },
  { ...hdr, kind: 'ptrace', tracerPid: 9, tracerTgid: 9, attach: true },
  { ...hdr, kind: 'comm', comm: 'new' },
  { ...hdr, kind: 'coredump', parentPid: 7, parentTgid: 7 },
  { ...hdr, kind: 'unknown', what: 0x1000, raw: new Uint8Array(40) },
];
function enriched(e: ProcEvent): EnrichedEvent {
  return {
    event: e,
    process: proc,
    parent: { ...unknownProcess(7, 1), exe: '/usr/bin/bash' },
    ancestors: ['/usr/bin/bash', '/usr/sbin/sshd'],
    previous: { ruid: 1000, euid: 1000, rgid: 100, egid: 100, comm: 'old', sid: 1 },
    tracer: { ...unknownProcess(9, 1), exe: '/usr/bin/strace', euid: 65534 },
    lifetimeNs: 7_000_000_123,
  };
}

const TYPE_OF: Record<string, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  int: (v) => Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  'string[]': (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
  'int[]': (v) => Array.isArray(v) && v.every((x) => Number.isInteger(x)),
};

/** A named container and one whose names could not be resolved. */
const named: Workload = {
  containerId: 'c'.repeat(64),
  runtime: 'containerd',
  containerName: 'server',
  imageName: 'registry.example.com/shop/server',
  imageTag: '2.3.1',
  imageId: `sha256:${'d'.repeat(64)}`,
  podUid: 'pod-1',
  podName: 'shop-server-1',
  namespace: 'shop',
  k8sContainerName: 'server',
  unresolved: null,
};
const unnamed: Workload = {
  ...named,
  containerName: null,
  imageName: null,
  imageTag: null,
  imageId: null,
  podName: null,
  namespace: null,
  k8sContainerName: null,
  unresolved: 'no-state',
};
const libraryCtx: MappingContext = { ...ctx, workloadAttributes: true };

const ESCALATION = { mechanisms: ['setuid', 'file_capabilities'] as const, gained: 0x2000, previousEuid: 1000, previousEgid: 100 };

test('capabilities by name on full records; an escalating exec says how, from which ids, gaining what', () => {
  const a = recordAttributes({ ...enriched(events[1] as ProcEvent), escalation: ESCALATION }, 'process.exec', ctx);
  assert.equal((a['cnproc.process.capabilities.effective'] as string[]).length, 40);
  assert.ok(!(a['cnproc.process.capabilities.permitted'] as string[]).includes('cap_sys_resource'));
  assert.equal(a['cnproc.process.privileged'], true, 'uid 0 with capabilities');
  assert.equal(a['cnproc.exec.escalated'], true);
  assert.deepEqual(a['cnproc.exec.escalation.mechanisms'], ['setuid', 'file_capabilities']);
  assert.deepEqual(a['cnproc.exec.escalation.capabilities_gained'], ['cap_net_raw']);
  assert.equal(a['cnproc.exec.escalation.previous_user.id'], 1000);
  assert.equal(a['cnproc.exec.escalation.previous_group.id'], 100);
  const plain = recordAttributes({ ...enriched(events[1] as ProcEvent), escalation: null }, 'process.exec', ctx);
  assert.equal(plain['cnproc.exec.escalated'], undefined);
  // Unknown sets (after a uid change): no capability attributes at all, rather than an empty list.
  const unknown = recordAttributes(
    { ...enriched(events[1] as ProcEvent), process: { ...proc, capEffective: null, capPermitted: null } },
    'process.exec',
    ctx,
  );
  assert.equal(unknown['cnproc.process.capabilities.effective'], undefined);
  assert.equal(unknown['cnproc.process.privileged'], undefined);
});

const TMPFS: ExecutableMount = { kind: 'tmpfs', mountPoint: '/dev/shm', fsType: 'tmpfs', upperDir: null };
const UPPER: ExecutableMount = {
  kind: 'upper_layer',
  mountPoint: '/',
  fsType: 'overlay',
  upperDir: '/var/lib/containers/storage/overlay/ab/diff',
};
const NAMESPACES: Namespaces = {
  pid: 4026531836,
  mnt: 4026532177,
  net: 4026532180,
  user: 4026531837,
  uts: 4026532178,
  ipc: 4026531839,
  cgroup: 4026531835,
  time: 4026531834,
  nonHost: ['mnt', 'net', 'uts'],
};
const PTRACE_EXEC = {
  mechanisms: ['setuid', 'ptrace'] as const,
  gained: 0x1fffeffffff,
  previousEuid: 65534,
  previousEgid: 65534,
  tracerTgid: 9,
  tracerCapEffective: 0x80000,
};
const PTRACE_ATTACH = {
  mechanisms: ['ptrace'] as const,
  gained: 0x1fffef7ffff,
  previousEuid: 65534,
  previousEgid: null,
  tracerTgid: 9,
  tracerCapEffective: 0x80000,
};
const UID_CHANGE = {
  mechanisms: ['uid_change'] as const,
  gained: 0,
  previousEuid: 65534,
  previousEgid: 65534,
  previousSuid: 65534,
  previousCapEffective: 0x80,
};

test('a program on a tmpfs or in a container’s upper layer is flagged with its mount; namespaces with the non-host types', () => {
  const t = recordAttributes(
    { ...enriched(events[1] as ProcEvent), process: { ...proc, exeMount: TMPFS, namespaces: NAMESPACES } },
    'process.exec',
    ctx,
  );
  assert.equal(t['cnproc.process.executable.tmpfs'], true);
  assert.equal(t['cnproc.process.executable.upper_layer'], undefined);
  assert.equal(t['cnproc.process.executable.mount.point'], '/dev/shm');
  assert.equal(t['cnproc.process.executable.mount.type'], 'tmpfs');
  assert.equal(t['cnproc.process.namespace.net'], 4026532180);
  assert.deepEqual(t['cnproc.process.namespaces.non_host'], ['mnt', 'net', 'uts']);
  const u = recordAttributes({ ...enriched(events[1] as ProcEvent), process: { ...proc, exeMount: UPPER } }, 'process.exec', ctx);
  assert.equal(u['cnproc.process.executable.upper_layer'], true);
  assert.equal(u['cnproc.process.executable.upper_dir'], UPPER.upperDir);
  assert.equal(u['cnproc.process.executable.tmpfs'], undefined);
  const plain = recordAttributes(enriched(events[1] as ProcEvent), 'process.exec', ctx);
  for (const k of Object.keys(plain)) assert.ok(!k.includes('.mount.') && !k.includes('namespace'), k);
});

test('ptrace and uid-change escalations carry their evidence on their own records', () => {
  const e = recordAttributes({ ...enriched(events[1] as ProcEvent), escalation: PTRACE_EXEC }, 'process.exec', ctx);
  assert.deepEqual(e['cnproc.exec.escalation.mechanisms'], ['setuid', 'ptrace']);
  assert.equal(e['cnproc.exec.escalation.tracer.pid'], 9);
  const p = recordAttributes({ ...enriched(events[6] as ProcEvent), escalation: PTRACE_ATTACH }, 'process.ptrace', ctx);
  assert.equal(p['cnproc.ptrace.escalated'], true);
  assert.deepEqual(p['cnproc.ptrace.tracer.capabilities.effective'], ['cap_sys_ptrace']);
  assert.ok((p['cnproc.ptrace.escalation.capabilities_gained'] as string[]).includes('cap_sys_admin'));
  assert.ok(!(p['cnproc.ptrace.escalation.capabilities_gained'] as string[]).includes('cap_sys_ptrace'));
  const quiet = recordAttributes({ ...enriched(events[6] as ProcEvent), escalation: null }, 'process.ptrace', ctx);
  assert.equal(quiet['cnproc.ptrace.escalated'], undefined);
  const u = recordAttributes({ ...enriched(events[3] as ProcEvent), escalation: UID_CHANGE }, 'process.uid_change', ctx);
  assert.equal(u['cnproc.uid_change.escalated'], true);
  assert.equal(u['cnproc.previous.saved_user.id'], 65534);
  assert.deepEqual(u['cnproc.previous.capabilities.effective'], ['cap_setuid']);
});

test('a memfd or deleted executable is flagged fileless with its origin; a file on disk is not', () => {
  const at = (exe: string) => recordAttributes({ ...enriched(events[1] as ProcEvent), process: { ...proc, exe } }, 'process.exec', ctx);
  const m = at('/memfd:payload (deleted)');
  assert.equal(m['cnproc.process.executable.fileless'], true);
  assert.equal(m['cnproc.process.executable.origin'], 'memfd');
  assert.equal(at('/tmp/x (deleted)')['cnproc.process.executable.origin'], 'deleted');
  assert.equal(at('/usr/bin/curl')['cnproc.process.executable.fileless'], undefined);
});

/** A setuid-root program file as the capture thread describes it. */
const FILE: ExecutableFile = {
  dev: 2049,
  devMajor: 8,
  devMinor: 1,
  ino: 2n ** 60n + 7n,
  size: 55_680,
  mode: 0o104755,
  uid: 0,
  gid: 0,
  nlink: 1,
  mtimeNs: 1_700_000_000_123_456_789n,
  ctimeNs: 1_700_000_001_000_000_000n,
  buildId: '0a1b2c',
  buildIdMissing: null,
  sha256: 'ab'.repeat(32),
  hashState: 'hashed',
};

test('the executable file: identity, owner, mode, build id and hash; why a hash or build id is missing', () => {
  const at = (exeFile: ExecutableFile) =>
    recordAttributes({ ...enriched(events[1] as ProcEvent), process: { ...proc, exeFile } }, 'process.exec', ctx);
  const a = at(FILE);
  assert.equal(a['process.executable.build_id.gnu'], '0a1b2c');
  assert.equal(a['cnproc.process.executable.hash.sha256'], 'ab'.repeat(32));
  assert.equal(a['cnproc.process.executable.hash.missing'], undefined);
  assert.equal(a['cnproc.process.executable.size'], 55_680);
  assert.equal(a['cnproc.process.executable.inode'], '1152921504606846983', 'exact beyond 2^53');
  assert.equal(a['cnproc.process.executable.device'], '8:1');
  assert.equal(a['cnproc.process.executable.mtime'], '2023-11-14T22:13:20.123456789Z');
  assert.equal(a['cnproc.process.executable.mode'], '4755');
  assert.equal(a['cnproc.process.executable.owner.id'], 0);
  // Writable by its own user: never for root (proc runs as euid 0), yes for a uid-1000 file run by uid 1000.
  assert.equal(a['cnproc.process.executable.writable_by_user'], undefined);
  const run = (euid: number, exeFile: ExecutableFile) =>
    recordAttributes({ ...enriched(events[1] as ProcEvent), process: { ...proc, euid, egid: 100, exeFile } }, 'process.exec', ctx)[
      'cnproc.process.executable.writable_by_user'
    ];
  assert.equal(run(1000, FILE), undefined, 'root-owned, run by uid 1000');
  assert.equal(run(1000, { ...FILE, uid: 1000, mode: 0o100755 }), true);
  assert.equal(run(1000, { ...FILE, uid: 1000, mode: 0o100555 }), undefined);
  const later = at({ ...FILE, buildId: null, buildIdMissing: 'not_elf', sha256: null, hashState: 'pending' });
  assert.equal(later['process.executable.build_id.gnu'], undefined);
  assert.equal(later['cnproc.process.executable.build_id_missing'], 'not_elf');
  assert.equal(later['cnproc.process.executable.hash.sha256'], undefined);
  assert.equal(later['cnproc.process.executable.hash.missing'], 'pending');
  // Hashing off: no hash attribute at all.
  const off = at({ ...FILE, sha256: null, hashState: 'off' });
  assert.equal(off['cnproc.process.executable.hash.missing'], undefined);
  // The hash arrives after the exec record: the same process's next record carries it.
  const shared: ExecutableFile = { ...FILE, sha256: null, hashState: 'pending' };
  const p: ProcessInfo = { ...proc, exeFile: shared };
  assert.equal(
    recordAttributes({ ...enriched(events[1] as ProcEvent), process: p }, 'process.exec', ctx)['cnproc.process.executable.hash.missing'],
    'pending',
  );
  shared.sha256 = 'cd'.repeat(32);
  shared.hashState = 'hashed';
  const exit = events.find((e) => e.kind === 'exit' && !e.isThread) as ProcEvent;
  assert.equal(
    recordAttributes({ ...enriched(exit), process: p }, 'process.exit', ctx)['cnproc.process.executable.hash.sha256'],
    'cd'.repeat(32),
  );
  // The same through the agent's split records: the exec's shared block is made again for the exit.
  const shared2: ExecutableFile = { ...FILE, sha256: null, hashState: 'pending' };
  const p2: ProcessInfo = { ...proc, exeFile: shared2 };
  const execParts = splitRecordAttributes({ ...enriched(events[1] as ProcEvent), process: p2 }, 'process.exec', ctx);
  assert.equal(execParts?.block.attrs['cnproc.process.executable.hash.missing'], 'pending');
  shared2.sha256 = 'ef'.repeat(32);
  shared2.hashState = 'hashed';
  const exitParts = splitRecordAttributes({ ...enriched(exit), process: p2 }, 'process.exit', ctx);
  assert.ok(exitParts !== null && exitParts.block !== execParts?.block);
  assert.equal(exitParts.block.attrs['cnproc.process.executable.hash.sha256'], 'ef'.repeat(32));
  assert.equal(exitParts.block.attrs['cnproc.process.executable.hash.missing'], undefined);
  assert.equal(execParts?.block.attrs['cnproc.process.executable.hash.missing'], 'pending', 'the exec record keeps what it said');
});

test('every attribute emitted for every event kind is documented, with its documented type', () => {
  const seen = new Set<string>();
  const samples: Array<[EnrichedEvent, MappingContext]> = [
    ...[...events, { ...hdr, kind: 'exec', snapshotSuperseded: true } as ProcEvent].map((e): [EnrichedEvent, MappingContext] => [
      enriched(e),
      ctx,
    ]),
    // The library's records carry their workload's names (the agent's resource does instead).
    [{ ...enriched(events[1] as ProcEvent), workload: named }, libraryCtx],
    [{ ...enriched(events[1] as ProcEvent), workload: unnamed }, libraryCtx],
    [{ ...enriched(events[1] as ProcEvent), escalation: ESCALATION }, ctx],
    [{ ...enriched(events[1] as ProcEvent), process: { ...proc, exe: '/memfd:x (deleted)' } }, ctx],
    [{ ...enriched(events[1] as ProcEvent), process: { ...proc, exeMount: TMPFS, namespaces: NAMESPACES } }, ctx],
    [{ ...enriched(events[1] as ProcEvent), process: { ...proc, exeMount: UPPER } }, ctx],
    [{ ...enriched(events[1] as ProcEvent), escalation: PTRACE_EXEC }, ctx],
    [{ ...enriched(events[6] as ProcEvent), escalation: PTRACE_ATTACH }, ctx],
    [{ ...enriched(events[3] as ProcEvent), escalation: UID_CHANGE }, ctx],
    [{ ...enriched(events[1] as ProcEvent), process: { ...proc, exeFile: FILE } }, ctx],
    [{ ...enriched(events[1] as ProcEvent), process: { ...proc, euid: 1000, exeFile: { ...FILE, uid: 1000 } } }, ctx],
    [
      {
        ...enriched(events[1] as ProcEvent),
        process: { ...proc, exeFile: { ...FILE, buildId: null, buildIdMissing: 'none', sha256: null, hashState: 'too_large' } },
      },
      ctx,
    ],
  ];
  for (const [x, c] of samples) {
    const attrs = recordAttributes(x, EVENT_NAMES[x.event.kind], c);
    for (const [k, v] of Object.entries(attrs)) {
      const doc = (ATTRIBUTE_DOCS as Record<string, { type: string }>)[k];
      assert.ok(doc, `${k} is not in ATTRIBUTE_DOCS`);
      assert.ok(TYPE_OF[doc.type]?.(v), `${k}: ${JSON.stringify(v)} is not ${doc.type}`);
      seen.add(k);
    }
  }
  // The agent's own records (cnproc.loss, cnproc.stats, cnproc.storm) are checked elsewhere.
  const own = Object.entries(ATTRIBUTE_DOCS)
    .filter(([, d]) => !d.on.startsWith('cnproc.'))
    .map(([k]) => k);
  assert.deepEqual(
    own.filter((k) => !seen.has(k)),
    ['process.exit.code'],
    'every documented event attribute is produced by some sample (exit.code is absent for a signal death)',
  );
});

test('an exec whose snapshot was read after a later exec says so; others do not carry the flag', () => {
  const flagged = recordAttributes(enriched({ ...hdr, kind: 'exec', snapshotSuperseded: true }), 'process.exec', ctx);
  assert.equal(flagged['cnproc.exec.snapshot_superseded'], true);
  const plain = recordAttributes(enriched({ ...hdr, kind: 'exec' }), 'process.exec', ctx);
  assert.equal(plain['cnproc.exec.snapshot_superseded'], undefined);
});

test('the agent’s own records carry only documented attributes of the documented types', async () => {
  const { lossRecord, statsRecord, stormRecord } = await import('../../src/telemetry/agent-records.js');
  const zero = telemetrySnapshot();
  const more = {
    ...zero,
    capture: { ...zero.capture, kernelDrops: 5 },
    pressure: { ...zero.pressure, dropped: { rate_limit: 2, priority: 1 } },
    process: {
      ...zero.process,
      hash: {
        hashed: 4,
        bytes: 100,
        cpuUs: 10,
        execsWithHash: 9,
        execsLate: 3,
        skipped: { too_large: 1, not_regular: 0, gone: 2, denied: 0, changed: 0, timeout: 0, queue_full: 0, failed: 0 },
        cached: 4,
        queued: 0,
      },
    },
  };
  const recs = [
    lossRecord(zero, more, [1, 0]),
    statsRecord(more, [1, 0]),
    stormRecord(
      {
        parentPid: 1,
        parentEntityId: 'p',
        parentExecutable: '/usr/bin/make',
        executable: '/usr/bin/cc',
        counts: { fork: 1, exec: 1, exit: 1, comm: 0, sid: 0 },
        total: 3,
        first: [1, 0],
        last: [2, 0],
        samplePids: [5, 6],
        windowMs: 1000,
      },
      2,
    ),
  ];
  assert.deepEqual(
    [
      recs[1]?.attributes?.['cnproc.stats.executables_hashed'],
      recs[1]?.attributes?.['cnproc.stats.executable_hashes_skipped'],
      recs[1]?.attributes?.['cnproc.stats.exec_hash_late'],
    ],
    [4, 3, 3],
  );
  for (const r of recs) {
    assert.ok(r);
    for (const [k, v] of Object.entries(r.attributes ?? {})) {
      const doc = (ATTRIBUTE_DOCS as Record<string, { type: string }>)[k];
      assert.ok(doc, `${k} is not in ATTRIBUTE_DOCS`);
      assert.ok(TYPE_OF[doc.type]?.(v), `${k}: ${JSON.stringify(v)} is not ${doc.type}`);
    }
  }
});

test('docs/attributes.md is generated from the mapping (run npm run docs:attributes)', () => {
  const file = readFileSync(new URL('../../../docs/attributes.md', import.meta.url), 'utf8');
  assert.equal(file, renderAttributesMarkdown());
});

test('semconv names carry the right values', () => {
  const a = recordAttributes(enriched(events[1] as ProcEvent), 'process.exec', ctx);
  assert.equal(a['process.pid'], 42);
  assert.equal(a['process.parent_pid'], 7);
  assert.equal(a['process.executable.name'], 'curl');
  assert.deepEqual(a['process.command_args'], ['curl', '-s', '--password=<redacted>', 'https://x']);
  assert.equal(a['process.command_line'], 'curl -s --password=<redacted> https://x');
  assert.equal(a['cnproc.process.args_redacted'], true);
  assert.equal(a['cnproc.process.args_truncated'], true);
  assert.equal(a['process.args_count'], 4);
  assert.equal(a['process.user.name'], 'root');
  assert.equal(a['process.real_user.name'], 'alice');
  assert.equal(a['cnproc.process.login_user.name'], 'alice');
  assert.equal(a['process.interactive'], true);
  assert.equal(a['process.creation.time'], '2026-11-26T01:21:20.123456789Z');
  assert.equal(a['container.id'], 'c'.repeat(64));
  assert.equal(a['cnproc.event.id'], '1-99');
});

test('exit: code, signal, core, lifetime, exit time', () => {
  const a = recordAttributes(enriched(events[2] as ProcEvent), 'process.exit', ctx);
  assert.equal(a['cnproc.exit.signal'], 11);
  assert.equal(a['cnproc.exit.core_dumped'], true);
  assert.equal(a['process.exit.code'], undefined);
  assert.equal(a['cnproc.process.lifetime_ns'], 7_000_000_123);
  assert.equal(a['process.exit.time'], '2026-11-26T01:21:27.000000005Z');
});

test('severity: INFO, WARN for non-zero exit / ptrace attach / unknown, ERROR for core dumps', () => {
  const sev = (e: ProcEvent): SeverityNumber => severityOf(enriched(e));
  assert.equal(sev(events[1] as ProcEvent), SeverityNumber.INFO);
  assert.equal(sev(events[2] as ProcEvent), SeverityNumber.ERROR);
  assert.equal(
    sev({ ...(events[2] as ProcEvent & { kind: 'exit' }), status: 768, exitCode: 3, signal: null, coreDumped: false }),
    SeverityNumber.WARN,
  );
  assert.equal(
    sev({ ...(events[2] as ProcEvent & { kind: 'exit' }), status: 0, exitCode: 0, signal: null, coreDumped: false }),
    SeverityNumber.INFO,
  );
  assert.equal(sev(events[6] as ProcEvent), SeverityNumber.WARN);
  assert.equal(sev(events[8] as ProcEvent), SeverityNumber.ERROR);
  assert.equal(sev(events[9] as ProcEvent), SeverityNumber.WARN);
});

test('record: event name, kernel time, observed time, short body', () => {
  const r = toLogRecord(enriched(events[1] as ProcEvent), ctx, [1795656088, 0]);
  assert.equal(r.eventName, 'process.exec');
  assert.deepEqual(r.timestamp, [1795656087, 5]);
  assert.deepEqual(r.observedTimestamp, [1795656088, 0]);
  assert.equal(r.body, 'exec curl -s --password=<redacted> https://x (pid 42, uid 0)');
  assert.equal(r.severityText, 'INFO');
  const long = bodyOf(enriched(events[1] as ProcEvent), `x ${'a'.repeat(500)}`);
  assert.ok(long.length <= 200 && long.endsWith('…'));
});

/** Attributes ATTRIBUTE_DOCS puts on every process-event record: what a lean record takes from its process. */
const ALL = new Set(
  Object.entries(ATTRIBUTE_DOCS)
    .filter(([, d]) => d.on === 'all')
    .map(([k]) => k),
);
/** A lean record's own attributes, beside the 'all' ones. */
const LEAN_OWN: Record<string, readonly string[]> = {
  fork: ['cnproc.thread.is_thread'],
  exit: [
    'cnproc.thread.is_thread',
    'cnproc.exit.status',
    'process.exit.time',
    'process.exit.code',
    'cnproc.exit.signal',
    'cnproc.exit.core_dumped',
    'cnproc.process.lifetime_ns',
  ],
};
const forkedChild: ProcessInfo = { ...proc, source: 'fork' };
const exitEvent = events[2] as ProcEvent & { kind: 'exit' };
const threadHdr = { ...hdr, pid: 43 };
const leanSamples: Array<[string, EnrichedEvent]> = [
  ['process fork', { ...enriched(events[0] as ProcEvent), process: forkedChild }],
  ['thread create', enriched({ ...threadHdr, kind: 'fork', parentPid: 7, parentTgid: 7, isThread: true })],
  ['thread exit', { ...enriched({ ...exitEvent, ...threadHdr, isThread: true, exitSignal: -1 }), lifetimeNs: null }],
  ['exit of a forked child that never exec’d', { ...enriched(exitEvent), process: forkedChild }],
];

test('lean records (fork, threads, exit without exec) carry the all attributes, with the full mapping’s values', () => {
  for (const [what, x] of leanSamples) {
    assert.ok(isLeanRecord(x), what);
    const lean = recordAttributes(x, EVENT_NAMES[x.event.kind], ctx);
    // The same event about a process that exec'd: its full record.
    const full = recordAttributes({ ...x, process: { ...(x.process as ProcessInfo), source: 'exec' } }, EVENT_NAMES[x.event.kind], ctx);
    const own = LEAN_OWN[x.event.kind] ?? [];
    for (const [k, v] of Object.entries(lean)) {
      assert.ok(ALL.has(k) || own.includes(k), `${what}: ${k} is neither an 'all' attribute nor the record's own`);
      assert.deepEqual(v, full[k], `${what}: ${k} has the full record's value`);
    }
    for (const k of Object.keys(full)) {
      if (ALL.has(k)) assert.ok(k in lean, `${what}: ${k} ('all') is missing`);
    }
    assert.equal(lean['process.command_args'], undefined, what);
  }
});

test('lean records stay within the attribute count the SDK copies in fast mode (19): pods and host services', () => {
  // A pod's process (container id and pod uid, no systemd unit) and a host service's (unit only),
  // both read without misses, exiting normally: the usual storm. A miss, or a signal death and its
  // core dump, add an attribute each.
  const pod: ProcessInfo = { ...forkedChild, systemdUnit: null, missing: [] };
  const host: ProcessInfo = { ...forkedChild, containerId: null, containerRuntime: null, podUid: null, missing: [] };
  const normal = { ...exitEvent, status: 0, exitCode: 0, signal: null, coreDumped: false };
  for (const p of [pod, host]) {
    for (const [what, x] of leanSamples) {
      const e = x.event.kind === 'exit' ? { ...normal, pid: x.event.pid, isThread: x.event.isThread } : x.event;
      const n = Object.keys(recordAttributes({ ...x, event: e, process: p }, EVENT_NAMES[e.kind], ctx)).length;
      assert.ok(n <= 19, `${what}: ${n} attributes`);
    }
  }
});

test('full records: exec, the exit of a process that exec’d or predates the agent, and the other events', () => {
  for (const source of ['exec', 'scan', 'event'] as const) {
    const x = { ...enriched(exitEvent), process: { ...proc, source } };
    assert.ok(!isLeanRecord(x), source);
    const a = recordAttributes(x, 'process.exit', ctx);
    assert.deepEqual(a['process.command_args'], ['curl', '-s', '--password=<redacted>', 'https://x'], source);
    assert.equal(a['process.user.name'], 'root', source);
    assert.deepEqual(a['cnproc.process.ancestors'], ['/usr/bin/bash', '/usr/sbin/sshd'], source);
  }
  for (const e of events.slice(1)) {
    if (e.kind !== 'exit') assert.ok(!isLeanRecord(enriched(e)), e.kind);
  }
});

test('values computed once per process entry follow a new redaction (configuration reload)', () => {
  const x = enriched(events[1] as ProcEvent);
  const first = recordAttributes(x, 'process.exec', ctx);
  assert.deepEqual(recordAttributes(x, 'process.exec', ctx), first, 'same entry, same attributes');
  const reloaded: MappingContext = { ...ctx, redact: (argv) => ({ argv: argv.map(() => 'X'), redacted: true }) };
  const after = recordAttributes(x, 'process.exec', reloaded);
  assert.deepEqual(after['process.command_args'], ['X', 'X', 'X', 'X']);
  assert.equal(after['process.command_line'], 'X X X X');
  assert.equal(toLogRecord(x, reloaded, [1795656088, 0]).body, 'exec X X X X (pid 42, uid 0)');
  ctx.redact = reloaded.redact; // the agent's reload replaces ctx.redact in place
  try {
    assert.equal(recordAttributes(x, 'process.exec', ctx)['process.command_line'], 'X X X X');
  } finally {
    ctx.redact = NO_SECRETS_REDACT;
  }
});

test('isoTime gives isoNanos’s text, across seconds', () => {
  const times: Array<[number, number]> = [
    [1795656087, 5],
    [1795656087, 123456789],
    [1795656087, 100000000],
    [1795656088, 99999999],
    [0, 0],
    [1795656087, 999999999],
  ];
  for (const t of times) assert.equal(isoTime(t), isoNanos(t), JSON.stringify(t));
});

test('workload names: on full records only in the library; never on lean records; the agent keeps them for the resource', () => {
  const exec = { ...enriched(events[1] as ProcEvent), workload: named };
  const lib = recordAttributes(exec, 'process.exec', libraryCtx);
  assert.equal(lib['container.name'], 'server');
  assert.deepEqual(lib['container.image.tags'], ['2.3.1']);
  assert.equal(lib['k8s.namespace.name'], 'shop');
  assert.equal(lib['cnproc.container.runtime'], 'containerd', 'the state’s runtime over the cgroup’s');
  const agent = recordAttributes(exec, 'process.exec', ctx);
  assert.equal(agent['container.name'], undefined);
  assert.equal(agent['container.id'], named.containerId, 'the join key stays on every record');
  const fork = { ...enriched(events[0] as ProcEvent), process: { ...proc, source: 'fork' as const }, workload: named };
  assert.equal(recordAttributes(fork, 'process.fork', libraryCtx)['container.name'], undefined);
});

test('split attributes join to the one-piece mapping, key for key in the same order', () => {
  const samples: Array<[string, EnrichedEvent, MappingContext]> = [];
  for (const e of events) samples.push([e.kind, enriched(e), ctx]);
  samples.push(['exec escalating', { ...enriched(events[1] as ProcEvent), escalation: ESCALATION }, ctx]);
  samples.push(['exec superseded', enriched({ ...(events[1] as ProcEvent & { kind: 'exec' }), snapshotSuperseded: true }), ctx]);
  samples.push(['exec in a named container (agent)', { ...enriched(events[1] as ProcEvent), workload: named }, ctx]);
  samples.push(['exit without parent or ancestors', { ...enriched(events[2] as ProcEvent), parent: undefined, ancestors: [] }, ctx]);
  samples.push(['exec, library, host process', { ...enriched(events[1] as ProcEvent), workload: null }, libraryCtx]);
  let split = 0;
  for (const [name, x, c] of samples) {
    const whole = recordAttributes(x, EVENT_NAMES[x.event.kind], c);
    const parts = splitRecordAttributes(x, EVENT_NAMES[x.event.kind], c);
    if (parts === null) continue;
    split++;
    assert.deepEqual(Object.entries(joinAttributes(parts)), Object.entries(whole), name);
    for (const k of Object.keys(parts.own)) assert.ok(!(k in parts.block.attrs), `${name}: ${k} in both parts`);
    assert.ok(Object.isFrozen(parts.block.attrs));
  }
  assert.equal(split, 7, "exec and exit of a process that exec'd, in every variant above");
  // Not split: lean records, other kinds, and full records that carry their workload's names.
  assert.equal(splitRecordAttributes(enriched(events[0] as ProcEvent), 'process.fork', ctx), null);
  assert.equal(splitRecordAttributes(enriched(events[3] as ProcEvent), 'process.uid_change', ctx), null);
  assert.equal(splitRecordAttributes({ ...enriched(events[1] as ProcEvent), workload: named }, 'process.exec', libraryCtx), null);
  const forkedExit = { ...enriched(events[2] as ProcEvent), process: { ...proc, source: 'fork' as const } };
  assert.equal(splitRecordAttributes(forkedExit, 'process.exit', ctx), null);
});

test('records of one process share its block; a reload (another redaction) makes a new one', () => {
  const entry: ProcessInfo = { ...proc };
  const a = splitRecordAttributes({ ...enriched(events[1] as ProcEvent), process: entry }, 'process.exec', ctx);
  const b = splitRecordAttributes({ ...enriched(events[2] as ProcEvent), process: entry }, 'process.exit', ctx);
  assert.ok(a !== null && b !== null && a.block === b.block);
  const reloaded: MappingContext = { ...ctx, redact: (argv) => ({ argv: argv.map(() => 'x'), redacted: true }) };
  const c = splitRecordAttributes({ ...enriched(events[2] as ProcEvent), process: entry }, 'process.exit', reloaded);
  assert.ok(c !== null && c.block !== a.block);
  assert.deepEqual(c.block.attrs['process.command_args'], ['x', 'x', 'x', 'x']);
});
