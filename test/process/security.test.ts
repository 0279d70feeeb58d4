/**
 * Privileges and escalation on real execs (root): capabilities from status, a setuid-root and a
 * setgid copy of sleep and a copy with file capabilities (setcap), each run as nobody via setpriv.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ProcEvent } from '../../src/kernel/events.js';
import { ProcEventSource } from '../../src/kernel/source.js';
import { recordAttributes } from '../../src/otel/attributes.js';
import { capabilityNames } from '../../src/process/capabilities.js';
import { Enricher } from '../../src/process/enricher.js';
import { readHostClock } from '../../src/process/identity.js';
import type { EnrichedEvent } from '../../src/process/model.js';
import { scanProc } from '../../src/process/seed.js';
import { isRoot, needsRoot, run, waitFor } from '../helpers/kernel.js';

const host = readHostClock();
let source: ProcEventSource | undefined;
const out: EnrichedEvent[] = [];
let dir = '';

before(async () => {
  if (!isRoot) return;
  const enricher = new Enricher(host, { ancestryDepth: 4, maxProcesses: 65_536 });
  source = await ProcEventSource.start({
    onEvents: (evs: ProcEvent[]) => {
      for (const e of evs) out.push(enricher.enrich(e, e.procSnapshot));
    },
  });
  enricher.seed(scanProc(host, 32_768));
  // Traversable by nobody; on the root file system (not nosuid).
  dir = mkdtempSync(join(tmpdir(), 'cnproc-sec-'));
  chmodSync(dir, 0o755);
});
after(async () => {
  await source?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
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

/** A C helper: copies /usr/bin/sleep into a memfd and fexecve's it with argv[1]. */
const MEMFD_EXEC = `#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
extern char **environ;
int main(int argc, char **argv) {
  int in = open("/usr/bin/sleep", O_RDONLY);
  struct stat st;
  if (in < 0 || fstat(in, &st) != 0) { perror("open"); return 2; }
  int fd = memfd_create("payload", MFD_CLOEXEC);
  if (fd < 0) { perror("memfd_create"); return 2; }
  off_t off = 0;
  while (off < st.st_size) if (sendfile(fd, in, &off, st.st_size - off) <= 0) { perror("sendfile"); return 2; }
  char *args[] = { "sleep", argc > 1 ? argv[1] : "0.3", NULL };
  fexecve(fd, args, environ);
  perror("fexecve");
  return 2;
}
`;

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
