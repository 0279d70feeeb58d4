/**
 * The process model against real processes (root): argv fidelity, container ids from real
 * cgroups, uid changes with names, and exec records that say what they missed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import type { ProcEvent } from '../../src/kernel/events.js';
import { ProcEventSource } from '../../src/kernel/source.js';
import { Enricher } from '../../src/process/enricher.js';
import { readHostClock } from '../../src/process/identity.js';
import type { EnrichedEvent } from '../../src/process/model.js';
import { scanProc } from '../../src/process/seed.js';
import { UserDb } from '../../src/process/users.js';
import { needsRoot, run, waitFor } from '../helpers/kernel.js';

const host = readHostClock();
const sources: ProcEventSource[] = [];
after(async () => {
  for (const s of sources) await s.stop();
});

async function pipeline(): Promise<{ out: EnrichedEvent[]; enricher: Enricher }> {
  const enricher = new Enricher(host, { ancestryDepth: 4, maxProcesses: 65_536 });
  const out: EnrichedEvent[] = [];
  const source = await ProcEventSource.start({
    onEvents: (evs: ProcEvent[]) => {
      for (const e of evs) out.push(enricher.enrich(e, e.procSnapshot));
    },
  });
  sources.push(source);
  enricher.seed(scanProc(host, 32_768));
  return { out, enricher };
}

const execOf = (out: EnrichedEvent[], pid: number) => out.find((x) => x.event.kind === 'exec' && x.event.tgid === pid);
const exitOf = (out: EnrichedEvent[], pid: number) => out.find((x) => x.event.kind === 'exit' && x.event.tgid === pid && !x.event.isThread);

describe('process model on real processes', () => {
  test('argv with spaces, quotes, a newline and invalid UTF-8 round-trips (escaped)', async (t) => {
    if (!needsRoot(t)) return;
    const { out } = await pipeline();
    // The inner sh keeps its positional arguments in its cmdline while it sleeps.
    const { pid } = await run('sh', [
      '-c',
      `exec sh -c 'sleep 0.3; true' zero 'a b' "it's \\"q\\"" "$(printf 'x\\ny')" "$(printf 'a\\377b')" ''`,
    ]);
    // Two execs in the same pid: the outer sh, then the inner one.
    const x = await waitFor('inner exec', () =>
      out.find((e) => e.event.kind === 'exec' && e.event.tgid === pid && e.process?.argv?.[2] === 'sleep 0.3; true'),
    );
    assert.deepEqual(x.process?.argv, ['sh', '-c', 'sleep 0.3; true', 'zero', 'a b', `it's "q"`, 'x\\ny', 'a\\xffb', '']);
    assert.equal(x.process?.exe, '/usr/bin/dash');
    assert.deepEqual(x.process?.missing, []);
    const exit = await waitFor('exit', () => exitOf(out, pid));
    assert.deepEqual(exit.process?.argv, x.process?.argv, 'the exit record is self-contained');
    assert.ok((exit.lifetimeNs ?? 0) >= 250e6, `lifetime ${exit.lifetimeNs}`);
    assert.equal(exit.process?.entityId, x.process?.entityId);
    assert.match(x.process?.entityId ?? '', /^[0-9a-f]{32}$/);
  });

  test('container id from a real docker- and kubepods-shaped cgroup', async (t) => {
    if (!needsRoot(t)) return;
    const root = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified', '/sys/fs/cgroup/systemd'].find((r) => existsSync(`${r}/cgroup.procs`));
    assert.ok(root, 'a writable cgroup hierarchy');
    const id = 'd0c4e5'.padEnd(64, '7');
    const pod = '0a1b2c3d-4e5f-6789-abcd-ef0123456789';
    const shapes = [
      { dir: `${root}/system.slice/docker-${id}.scope`, runtime: 'docker', pod: null },
      {
        dir: `${root}/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${pod.replace(/-/g, '_')}.slice/cri-containerd-${id}.scope`,
        runtime: 'containerd',
        pod,
      },
    ];
    const { out } = await pipeline();
    for (const shape of shapes) {
      mkdirSync(shape.dir, { recursive: true });
      try {
        // The child moves itself into the cgroup, then execs: the exec sees the container.
        const child = spawn('sh', ['-c', `echo $$ > ${shape.dir}/cgroup.procs && exec sleep 0.2`], { stdio: 'ignore' });
        const pid = child.pid as number;
        await new Promise((r) => child.once('exit', r));
        const x = await waitFor('exec', () =>
          out.find((e) => e.event.kind === 'exec' && e.event.tgid === pid && e.process?.exe === '/usr/bin/sleep'),
        );
        assert.equal(x.process?.containerId, id);
        assert.equal(x.process?.containerRuntime, shape.runtime);
        assert.equal(x.process?.podUid, shape.pod);
        const exit = await waitFor('exit', () => exitOf(out, pid));
        assert.equal(exit.process?.containerId, id);
      } finally {
        // Remove the cgroups we made, innermost first (the child has exited).
        let d = shape.dir;
        while (d !== root) {
          try {
            rmdirSync(d);
          } catch {
            break;
          }
          d = d.slice(0, d.lastIndexOf('/'));
        }
      }
    }
  });

  test('uid change: old and new ids with names', async (t) => {
    if (!needsRoot(t)) return;
    const { out } = await pipeline();
    const users = new UserDb();
    const { pid } = await run('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', 'sleep', '0.1']);
    const u = await waitFor('uid', () => out.find((e) => e.event.kind === 'uid' && e.event.tgid === pid));
    // setpriv changes ids right after its exec; when the exec snapshot was read after that, the old
    // ids are unknown (null) rather than reported wrong.
    assert.ok(
      JSON.stringify(u.previous) === JSON.stringify({ ruid: 0, euid: 0 }) ||
        JSON.stringify(u.previous) === JSON.stringify({ ruid: null, euid: null }),
      JSON.stringify(u.previous),
    );
    assert.deepEqual([u.process?.ruid, u.process?.euid], [65534, 65534]);
    assert.equal(users.userName(0), 'root');
    assert.equal(users.userName(65534), 'nobody');
    const x = await waitFor('exec of sleep', () =>
      out.find((e) => e.event.kind === 'exec' && e.event.tgid === pid && e.process?.exe === '/usr/bin/sleep'),
    );
    assert.deepEqual([x.process?.ruid, x.process?.euid, x.process?.suid], [65534, 65534, 65534]);
  });

  test('every exec record has its fields or says which are missing (50 short-lived /bin/true)', async (t) => {
    if (!needsRoot(t)) return;
    const { out } = await pipeline();
    const pids: number[] = [];
    for (let i = 0; i < 50; i++) pids.push((await run('/bin/true', [])).pid);
    for (const pid of pids) {
      const x = await waitFor(`exec ${pid}`, () => execOf(out, pid));
      const p = x.process;
      assert.ok(p);
      assert.ok(p.argv !== null || p.missing.some((m) => m.startsWith('argv:')), `argv or flag for ${pid}`);
      assert.ok(p.exe !== null || p.missing.some((m) => m.startsWith('exe:')), `exe or flag for ${pid}`);
    }
  });

  test('the start-up scan knows running processes, with stable ids', async (t) => {
    if (!needsRoot(t)) return;
    const a = scanProc(host, 32_768);
    const b = scanProc(host, 32_768);
    const self = a.find((p) => p.tgid === process.pid);
    assert.ok(self);
    assert.equal(self.exe, process.execPath);
    assert.equal(self.entityId, b.find((p) => p.tgid === process.pid)?.entityId, 'same id on a second scan (as after a restart)');
    const init = a.find((p) => p.tgid === 1);
    assert.ok(init?.entityId);
    assert.equal(self.ppid, process.ppid);
  });
});
