/**
 * Privileges and escalation on real execs (root): capabilities from status, a setuid-root and a
 * setgid copy of sleep and a copy with file capabilities (setcap), each run as nobody via setpriv;
 * ptrace attaches and a setuid(0) by cc-built helpers; programs on a tmpfs mounted here and in a
 * podman container's writable layer; namespaces of a process in `unshare -n -u`. The capture reads
 * every namespace link (process.namespaces on), as the agent does when configured so.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureDebianPackages } from '../../bench/ensure-tools.js';
import type { ProcEvent } from '../../src/kernel/events.js';
import { ProcEventSource } from '../../src/kernel/source.js';
import { recordAttributes } from '../../src/otel/attributes.js';
import { capabilityNames } from '../../src/process/capabilities.js';
import { Enricher } from '../../src/process/enricher.js';
import { readHostClock } from '../../src/process/identity.js';
import type { EnrichedEvent } from '../../src/process/model.js';
import { MountTables } from '../../src/process/mounts.js';
import { readHostNamespaces } from '../../src/process/namespaces.js';
import { scanProc } from '../../src/process/seed.js';
import { isRoot, needsRoot, run, waitFor } from '../helpers/kernel.js';
import { MEMFD_EXEC } from '../helpers/programs.js';

const host = readHostClock();
let source: ProcEventSource | undefined;
const out: EnrichedEvent[] = [];
let dir = '';
let mounts: MountTables | undefined;
const hostNamespaces = readHostNamespaces();

before(async () => {
  if (!isRoot) return;
  mounts = new MountTables();
  const enricher = new Enricher(host, { ancestryDepth: 4, maxProcesses: 65_536, mounts, hostNamespaces });
  source = await ProcEventSource.start({
    snapshot: { exec: true, fork: true, maxBytes: 32_768, namespaces: 'all' },
    onEvents: (evs: ProcEvent[]) => {
      for (const e of evs) out.push(enricher.enrich(e, e.procSnapshot));
    },
  });
  // The seed reads the agent's own mount table: later mounts must be seen through its poll.
  enricher.seed(scanProc(host, 32_768, '/proc', 'all', hostNamespaces));
  // Traversable by nobody; on the root file system (not nosuid).
  dir = mkdtempSync(join(tmpdir(), 'cnproc-sec-'));
  chmodSync(dir, 0o755);
});
after(async () => {
  await source?.stop();
  mounts?.close();
  if (dir) {
    spawnSync('umount', ['-l', join(dir, 'tmpfs')]);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A copy of sleep at `name` with `mode` (owned by root). */
function sleepCopy(name: string, mode: number): string {
  const p = join(dir, name);
  copyFileSync('/usr/bin/sleep', p);
  chmodSync(p, mode);
  return p;
}

/** Runs `exe 0.3` as nobody (setpriv drops to 65534 first) and returns the exec record of `exe`. */
async function asNobody(exe: string): Promise<EnrichedEvent> {
  const { pid, code } = await run('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', exe, '0.3']);
  assert.equal(code, 0, `${exe} ran`);
  await waitFor(`exit of ${exe}`, () => out.find((e) => e.event.kind === 'exit' && e.event.tgid === pid && !e.event.isThread));
  // The last exec, of `exe`: setpriv's own exec may have been read from /proc after it, showing `exe` too.
  const x = out.filter((e) => e.event.kind === 'exec' && e.event.tgid === pid).pop();
  assert.equal(x?.process?.exe, exe, story(pid));
  return x as EnrichedEvent;
}

/** The events of a process, for a failure message. */
function story(pid: number | undefined): string {
  return out
    .filter((e) => e.event.tgid === pid)
    .map(
      (e) =>
        `${e.event.kind} ${e.process?.exe} uid ${e.process?.ruid}/${e.process?.euid} gid ${e.process?.rgid}/${e.process?.egid} prm ${e.process?.capPermitted} missing ${e.process?.missing}`,
    )
    .join('\n');
}

const ctx = { userName: () => undefined, groupName: () => undefined, redact: (argv: readonly string[]) => ({ argv, redacted: false }) };

describe('security context of real execs', () => {
  test('a memfd exec is fileless, origin memfd; a deleted executable, origin deleted', async (t) => {
    if (!needsRoot(t)) return;
    const src = join(dir, 'memfd-exec.c');
    writeFileSync(src, MEMFD_EXEC);
    execFileSync('cc', ['-O2', '-o', join(dir, 'memfd-exec'), src]);
    const m = await run(join(dir, 'memfd-exec'), ['0.3']);
    assert.equal(m.code, 0);
    await waitFor('exit', () => out.find((e) => e.event.kind === 'exit' && e.event.tgid === m.pid && !e.event.isThread));
    const mx = out.filter((e) => e.event.kind === 'exec' && e.event.tgid === m.pid).pop();
    assert.equal(mx?.process?.exe, '/memfd:payload (deleted)', story(m.pid));
    const ma = recordAttributes(mx as EnrichedEvent, 'process.exec', ctx);
    assert.equal(ma['cnproc.process.executable.fileless'], true);
    assert.equal(ma['cnproc.process.executable.origin'], 'memfd');
    // Deleted: open the file, unlink it, exec it through the open descriptor.
    const gone = sleepCopy('gone', 0o755);
    const d = await run('sh', ['-c', `exec 3<${gone} && rm ${gone} && exec /proc/self/fd/3 0.3`]);
    assert.equal(d.code, 0);
    await waitFor('exit', () => out.find((e) => e.event.kind === 'exit' && e.event.tgid === d.pid && !e.event.isThread));
    const dx = out.filter((e) => e.event.kind === 'exec' && e.event.tgid === d.pid).pop();
    assert.equal(dx?.process?.exe, `${gone} (deleted)`, story(d.pid));
    assert.equal(recordAttributes(dx as EnrichedEvent, 'process.exec', ctx)['cnproc.process.executable.origin'], 'deleted');
    // The copy still on disk is not flagged.
    const plain = await asNobody(sleepCopy('kept', 0o755));
    assert.equal(recordAttributes(plain, 'process.exec', ctx)['cnproc.process.executable.fileless'], undefined);
  });

  test('a root exec: its capabilities by name, privileged; not an escalation', async (t) => {
    if (!needsRoot(t)) return;
    const { pid } = await run('sleep', ['0.2']);
    const x = await waitFor('exec', () =>
      out.find((e) => e.event.kind === 'exec' && e.event.tgid === pid && e.process?.exe === '/usr/bin/sleep'),
    );
    const mine = execFileSync('grep', ['^CapEff', '/proc/self/status'], { encoding: 'utf8' }).trim().split(/\s+/)[1] as string;
    assert.deepEqual(
      capabilityNames(x.process?.capEffective ?? -1),
      capabilityNames(Number.parseInt(mine, 16)),
      'as the test (root) has them',
    );
    const a = recordAttributes(x, 'process.exec', ctx);
    assert.ok((a['cnproc.process.capabilities.effective'] as string[]).includes('cap_sys_admin'));
    assert.equal(a['cnproc.process.privileged'], true);
    assert.equal(a['cnproc.exec.escalated'], undefined);
  });

  test('a plain exec as nobody: no capabilities, not privileged, not an escalation', async (t) => {
    if (!needsRoot(t)) return;
    const x = await asNobody(sleepCopy('plain', 0o755));
    assert.equal(x.escalation, null);
    const a = recordAttributes(x, 'process.exec', ctx);
    assert.deepEqual(a['cnproc.process.capabilities.effective'], []);
    assert.deepEqual(a['cnproc.process.capabilities.permitted'], []);
    assert.equal(a['cnproc.process.privileged'], false);
    assert.equal(a['cnproc.exec.escalated'], undefined);
  });

  test('a setuid-root file run by nobody: escalated by setuid, from uid 65534, gaining capabilities', async (t) => {
    if (!needsRoot(t)) return;
    const x = await asNobody(sleepCopy('suid', 0o4755));
    assert.deepEqual([x.process?.ruid, x.process?.euid], [65534, 0]);
    assert.deepEqual(x.escalation?.mechanisms, ['setuid'], story(x.process?.tgid));
    const a = recordAttributes(x, 'process.exec', ctx);
    assert.equal(a['cnproc.exec.escalated'], true);
    assert.deepEqual(a['cnproc.exec.escalation.mechanisms'], ['setuid']);
    assert.equal(a['cnproc.exec.escalation.previous_user.id'], 65534);
    assert.ok((a['cnproc.exec.escalation.capabilities_gained'] as string[]).includes('cap_sys_admin'));
    assert.equal(a['cnproc.process.privileged'], true);
  });

  test('a setgid-root file run by nobody: escalated by setgid', async (t) => {
    if (!needsRoot(t)) return;
    const x = await asNobody(sleepCopy('sgid', 0o2755));
    assert.deepEqual([x.process?.rgid, x.process?.egid], [65534, 0]);
    assert.deepEqual(x.escalation?.mechanisms, ['setgid'], story(x.process?.tgid));
    assert.equal(recordAttributes(x, 'process.exec', ctx)['cnproc.process.privileged'], false);
  });

  test('a file with cap_net_raw+ep run by nobody: escalated by file capabilities, gaining exactly that', async (t) => {
    if (!needsRoot(t)) return;
    const exe = sleepCopy('fcaps', 0o755);
    execFileSync('setcap', ['cap_net_raw+ep', exe]);
    const x = await asNobody(exe);
    assert.deepEqual(x.escalation?.mechanisms, ['file_capabilities'], story(x.process?.tgid));
    const a = recordAttributes(x, 'process.exec', ctx);
    assert.deepEqual(a['cnproc.exec.escalation.capabilities_gained'], ['cap_net_raw']);
    assert.deepEqual(a['cnproc.process.capabilities.effective'], ['cap_net_raw']);
    assert.deepEqual(a['cnproc.process.capabilities.permitted'], ['cap_net_raw']);
    assert.equal(a['cnproc.process.privileged'], false);
    assert.equal(a['process.user.id'], 65534);
  });
});

/** A C helper: `attach <pid>` attaches to pid and detaches; `exec <file> args...` forks a child, attaches to it, lets it exec the file, detaches. */
const PTRACER = `#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int st;
  if (argc == 3 && strcmp(argv[1], "attach") == 0) {
    pid_t pid = atoi(argv[2]);
    if (ptrace(PTRACE_ATTACH, pid, 0, 0) != 0) { perror("attach"); return 2; }
    waitpid(pid, &st, 0);
    usleep(100000);
    if (ptrace(PTRACE_DETACH, pid, 0, 0) != 0) { perror("detach"); return 2; }
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "exec") == 0) {
    int p[2];
    if (pipe(p) != 0) return 2;
    usleep(200000); /* the agent reads this program's /proc before the attach */
    pid_t pid = fork();
    if (pid == 0) {
      char c;
      close(p[1]);
      while (read(p[0], &c, 1) < 0) {}
      usleep(100000);
      execv(argv[2], argv + 2);
      _exit(127);
    }
    close(p[0]);
    if (ptrace(PTRACE_ATTACH, pid, 0, 0) != 0) { perror("attach"); return 2; }
    waitpid(pid, &st, 0);
    ptrace(PTRACE_CONT, pid, 0, 0);
    if (write(p[1], "x", 1) != 1) return 2;
    waitpid(pid, &st, 0); /* the SIGTRAP stop after the exec */
    ptrace(PTRACE_DETACH, pid, 0, 0);
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
  }
  return 64;
}
`;

/** A C helper: `setuid`: setuid(0) after a pause; `seteuid`: seteuid(65534) then seteuid(0) (root regaining root). */
const UIDTOOL = `#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
  usleep(300000); /* the agent reads this program's /proc (its ids before the change) first */
  if (argc > 1 && strcmp(argv[1], "seteuid") == 0) {
    if (seteuid(65534) != 0 || (usleep(100000), seteuid(0)) != 0) { perror("seteuid"); return 3; }
  } else if (setuid(0) != 0) { perror("setuid"); return 3; }
  usleep(100000);
  return 0;
}
`;

/** Compiles a helper into the test directory (traversable by nobody). */
function cc(name: string, source: string): string {
  const src = join(dir, `${name}.c`);
  writeFileSync(src, source);
  const exe = join(dir, name);
  execFileSync('cc', ['-O2', '-o', exe, src]);
  chmodSync(exe, 0o755);
  return exe;
}

function recordsOf(pid: number, kind: string): EnrichedEvent[] {
  return out.filter((e) => e.event.kind === kind && e.event.tgid === pid);
}

describe('ptrace and uid changes that raise privileges', () => {
  test('nobody with cap_sys_ptrace attaching a root process: the attach is an escalation; root tracing root is not', async (t) => {
    if (!needsRoot(t)) return;
    const ptracer = cc('ptracer', PTRACER);
    const capped = join(dir, 'ptracer-cap');
    copyFileSync(ptracer, capped);
    chmodSync(capped, 0o755);
    execFileSync('setcap', ['cap_sys_ptrace+ep', capped]);
    for (const asNobody of [true, false]) {
      const victim = spawn('sleep', ['2'], { stdio: 'ignore' });
      const pid = victim.pid as number;
      await waitFor('the victim’s exec', () =>
        out.find((e) => e.event.kind === 'exec' && e.event.tgid === pid && e.process?.exe === '/usr/bin/sleep'),
      );
      const r = asNobody
        ? await run('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', capped, 'attach', String(pid)])
        : await run(ptracer, ['attach', String(pid)]);
      assert.equal(r.code, 0, 'the tracer attached and detached');
      const attach = await waitFor('ptrace attach', () =>
        out.find((e) => e.event.kind === 'ptrace' && e.event.tgid === pid && e.event.attach),
      );
      victim.kill();
      const a = recordAttributes(attach, 'process.ptrace', ctx);
      assert.equal(a['cnproc.ptrace.tracer.pid'], r.pid);
      if (asNobody) {
        assert.deepEqual(attach.escalation?.mechanisms, ['ptrace'], story(r.pid));
        assert.equal(a['cnproc.ptrace.escalated'], true);
        assert.equal(a['cnproc.ptrace.tracer.user.id'], 65534);
        assert.deepEqual(a['cnproc.ptrace.tracer.capabilities.effective'], ['cap_sys_ptrace']);
        const gained = a['cnproc.ptrace.escalation.capabilities_gained'] as string[];
        assert.ok(gained.includes('cap_sys_admin') && !gained.includes('cap_sys_ptrace'));
      } else {
        assert.equal(attach.escalation, null);
        assert.equal(a['cnproc.ptrace.escalated'], undefined);
        assert.equal(a['cnproc.ptrace.tracer.user.id'], 0);
      }
    }
  });

  test('a traced child execs a setuid-root file under a tracer that is not root: mechanisms setuid and ptrace', async (t) => {
    if (!needsRoot(t)) return;
    const capped = join(dir, 'ptracer-cap2');
    copyFileSync(cc('ptracer2', PTRACER), capped);
    chmodSync(capped, 0o755);
    execFileSync('setcap', ['cap_sys_ptrace+ep', capped]);
    const suid = sleepCopy('suid-traced', 0o4755);
    const r = await run('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', capped, 'exec', suid, '0.3']);
    assert.equal(r.code, 0, 'the traced child ran the setuid file');
    const x = await waitFor('the traced exec', () => out.find((e) => e.event.kind === 'exec' && e.process?.exe === suid));
    const child = x.event.tgid;
    assert.ok(recordsOf(child, 'ptrace').some((e) => e.event.kind === 'ptrace' && e.event.attach && e.event.tracerTgid === r.pid));
    assert.deepEqual(x.escalation?.mechanisms, ['setuid', 'ptrace'], story(child));
    const a = recordAttributes(x, 'process.exec', ctx);
    assert.equal(a['cnproc.exec.escalation.tracer.pid'], r.pid);
    assert.equal(a['process.user.id'], 0);
    // The attach itself (nobody with cap_sys_ptrace tracing its nobody child, which inherited it) is not one.
    const attach = recordsOf(child, 'ptrace').find((e) => e.event.kind === 'ptrace' && e.event.attach);
    assert.equal(attach?.escalation, null);
  });

  test('setuid(0) by nobody holding cap_setuid is a uid_change escalation; root regaining root is not', async (t) => {
    if (!needsRoot(t)) return;
    const tool = cc('uidtool', UIDTOOL);
    const capped = join(dir, 'uidtool-cap');
    copyFileSync(tool, capped);
    chmodSync(capped, 0o755);
    execFileSync('setcap', ['cap_setuid+ep', capped]);
    const r = await run('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', capped, 'setuid']);
    assert.equal(r.code, 0);
    const u = await waitFor('uid event to root', () =>
      out.find((e) => e.event.kind === 'uid' && e.event.tgid === r.pid && e.event.euid === 0),
    );
    assert.deepEqual(u.escalation?.mechanisms, ['uid_change'], story(r.pid));
    const a = recordAttributes(u, 'process.uid_change', ctx);
    assert.equal(a['cnproc.uid_change.escalated'], true);
    assert.equal(a['cnproc.previous.user.id'], 65534);
    assert.equal(a['cnproc.previous.saved_user.id'], 65534);
    assert.deepEqual(a['cnproc.previous.capabilities.effective'], ['cap_setuid']);
    // Root dropping its effective uid and taking it back: the saved and real uid were root.
    const back = await run(tool, ['seteuid']);
    assert.equal(back.code, 0);
    await waitFor('seteuid(0)', () => out.find((e) => e.event.kind === 'uid' && e.event.tgid === back.pid && e.event.euid === 0));
    for (const e of recordsOf(back.pid, 'uid')) assert.equal(e.escalation, null, story(back.pid));
  });
});

describe('where the program is', () => {
  test('a copy on a tmpfs mounted after the agent read its mount table is flagged with the mount; on the root file system it is not', async (t) => {
    if (!needsRoot(t)) return;
    const mnt = join(dir, 'tmpfs');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'cnproc-test', mnt]);
    const exe = join(mnt, 'sleep');
    copyFileSync('/usr/bin/sleep', exe);
    chmodSync(exe, 0o755);
    const r = await run(exe, ['0.3']);
    assert.equal(r.code, 0);
    const x = await waitFor('exec on tmpfs', () =>
      out.find((e) => e.event.kind === 'exec' && e.event.tgid === r.pid && e.process?.exe === exe),
    );
    const a = recordAttributes(x, 'process.exec', ctx);
    assert.equal(a['cnproc.process.executable.tmpfs'], true, story(r.pid));
    assert.equal(a['cnproc.process.executable.mount.point'], mnt);
    assert.equal(a['cnproc.process.executable.mount.type'], 'tmpfs');
    assert.equal(a['cnproc.process.executable.upper_layer'], undefined);
    const disk = sleepCopy('on-disk', 0o755);
    const d = await run(disk, ['0.2']);
    const dx = await waitFor('exec on disk', () =>
      out.find((e) => e.event.kind === 'exec' && e.event.tgid === d.pid && e.process?.exe === disk),
    );
    assert.equal(dx.process?.exeMount, null);
    assert.ok(!dx.process?.missing.some((m) => m.startsWith('exe_mount:')), story(d.pid));
    assert.equal(recordAttributes(dx, 'process.exec', ctx)['cnproc.process.executable.tmpfs'], undefined);
  });

  test('a tmpfs mounted in a new mount namespace only: its program is flagged from that namespace’s table', async (t) => {
    if (!needsRoot(t)) return;
    const mnt = join(dir, 'private');
    mkdirSync(mnt);
    // unshare makes the new namespace's mounts private: the host never sees this tmpfs.
    const script = `mount -t tmpfs cnproc-private ${mnt} && cp /usr/bin/sleep ${mnt}/sleep && exec ${mnt}/sleep 0.3`;
    const r = await run('unshare', ['-m', 'sh', '-c', script]);
    assert.equal(r.code, 0);
    const x = await waitFor('exec in the new namespace', () =>
      out.find((e) => e.event.kind === 'exec' && e.event.tgid === r.pid && e.process?.exe === join(mnt, 'sleep')),
    );
    assert.equal(x.process?.exeMount?.kind, 'tmpfs', story(r.pid));
    assert.equal(x.process?.exeMount?.mountPoint, mnt);
    assert.notEqual(x.process?.mntNs, mounts?.selfNs);
    assert.deepEqual(x.process?.namespaces?.nonHost, ['mnt']);
  });

  test('in a podman container: a program copied into the writable layer is upper_layer with its upperdir; the image’s is not', async (t) => {
    if (!needsRoot(t)) return;
    ensureDebianPackages({ podman: 'podman', '/usr/sbin/runc': 'runc', '/bin/busybox': 'busybox-static' });
    const image = `localhost/cnproc-upper:t${process.pid}`;
    const name = `cnproc-upper-${process.pid}`;
    const root = join(dir, 'rootfs');
    mkdirSync(join(root, 'bin'), { recursive: true });
    copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
    for (const applet of ['sh', 'sleep', 'cp', 'mkdir']) symlinkSync('busybox', join(root, 'bin', applet));
    const imp = spawnSync('sh', ['-c', `tar -C '${root}' -c . | podman import - ${image}`], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(imp.status, 0, imp.stderr);
    try {
      // Asynchronously: the enricher runs on this thread, and must look at the container's mounts while it runs.
      const p = await run('podman', [
        '--runtime',
        '/usr/sbin/runc',
        'run',
        '--name',
        name,
        '--network',
        'none',
        '--ulimit',
        'nofile=1024:1024',
        '--ulimit',
        'nproc=1000:1000',
        image,
        '/bin/sh',
        '-c',
        '/bin/sleep 0.3; mkdir /added; cp /bin/busybox /added/sleep; /added/sleep 0.3',
      ]);
      assert.equal(p.code, 0, 'the container ran');
      const id = spawnSync('podman', ['inspect', '--format', '{{.Id}}', name], { encoding: 'utf8' }).stdout.trim();
      const upperDir = spawnSync('podman', ['inspect', '--format', '{{.GraphDriver.Data.UpperDir}}', name], {
        encoding: 'utf8',
      }).stdout.trim();
      assert.match(upperDir, /\/diff$/);
      const inIt = (exe: string) => (e: EnrichedEvent) =>
        e.event.kind === 'exec' && e.process?.containerId === id && e.process?.exe === exe;
      const added = await waitFor('the added program’s exec', () => out.find(inIt('/added/sleep')));
      const a = recordAttributes(added, 'process.exec', ctx);
      assert.equal(a['cnproc.process.executable.upper_layer'], true, story(added.event.tgid));
      assert.equal(a['cnproc.process.executable.upper_dir'], upperDir);
      assert.equal(a['cnproc.process.executable.mount.point'], '/');
      assert.equal(a['cnproc.process.executable.mount.type'], 'overlay');
      // Not the host's mount or uts namespace; the same user namespace (rootful podman).
      assert.ok(added.process?.namespaces?.nonHost?.includes('mnt'));
      assert.ok(!added.process?.namespaces?.nonHost?.includes('user'));
      const fromImage = out.filter(inIt('/bin/busybox'));
      assert.ok(fromImage.length >= 2, 'sh and sleep from the image');
      for (const x of fromImage) {
        assert.equal(x.process?.exeMount, null, story(x.event.tgid));
        assert.ok(!x.process?.missing.some((m) => m.startsWith('exe_mount:')), story(x.event.tgid));
      }
    } finally {
      spawnSync('podman', ['rm', '-f', name], { timeout: 60_000 });
      spawnSync('podman', ['rmi', '-f', image], { timeout: 60_000 });
    }
  });
});

describe('namespaces (process.namespaces on)', () => {
  test('a process in unshare -n -u: net and uts are not the host’s, the others are; a plain one is all host', async (t) => {
    if (!needsRoot(t)) return;
    const u = await run('unshare', ['-n', '-u', 'sleep', '0.3']);
    assert.equal(u.code, 0);
    const x = await waitFor('exec of sleep', () =>
      out.find((e) => e.event.kind === 'exec' && e.event.tgid === u.pid && e.process?.exe === '/usr/bin/sleep'),
    );
    assert.deepEqual(x.process?.namespaces?.nonHost, ['net', 'uts'], story(u.pid));
    const a = recordAttributes(x, 'process.exec', ctx);
    assert.deepEqual(a['cnproc.process.namespaces.non_host'], ['net', 'uts']);
    for (const ty of ['pid', 'mnt', 'net', 'user', 'uts', 'ipc', 'cgroup', 'time']) {
      const v = a[`cnproc.process.namespace.${ty}`];
      assert.ok(Number.isInteger(v), `${ty}: ${v}`);
      if (ty !== 'net' && ty !== 'uts') assert.equal(v, hostNamespaces.inodes[ty as 'pid'], ty);
    }
    assert.notEqual(a['cnproc.process.namespace.net'], hostNamespaces.inodes.net);
    const plain = await run('sleep', ['0.2']);
    const px = await waitFor('plain exec', () =>
      out.find((e) => e.event.kind === 'exec' && e.event.tgid === plain.pid && e.process?.exe === '/usr/bin/sleep'),
    );
    assert.deepEqual(px.process?.namespaces?.nonHost, []);
  });
});
