/**
 * What the program file is, on real execs (root, the real proc connector and capture thread): the
 * identity and GNU build id read at exec, and the SHA-256 from the hasher thread, against stat,
 * readelf and sha256sum. A gcc-built program with a known build id, a copy of /bin/true, a file
 * replaced after its exec, one above the size limit, a memfd exec and a deleted executable.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LogAttributes } from '@opentelemetry/api-logs';
import type { ProcEvent } from '../../src/kernel/events.js';
import { ProcEventSource } from '../../src/kernel/source.js';
import { recordAttributes } from '../../src/otel/attributes.js';
import { Enricher } from '../../src/process/enricher.js';
import { type ExecutableFile, ExecutableHasher } from '../../src/process/executable-hash.js';
import { readHostClock } from '../../src/process/identity.js';
import type { EnrichedEvent } from '../../src/process/model.js';
import { scanProc } from '../../src/process/seed.js';
import { isRoot, needsRoot, run, waitFor } from '../helpers/kernel.js';
import { MEMFD_EXEC } from '../helpers/programs.js';

const host = readHostClock();
const ctx = { userName: () => undefined, groupName: () => undefined, redact: (argv: readonly string[]) => ({ argv, redacted: false }) };
/** Each event with its record's attributes as they were when the event was handled (the hash may come later). */
const out: Array<{ x: EnrichedEvent; a: LogAttributes }> = [];
// 1 GiB: the busy file below (sparse: no disk) must keep the hasher busy for about a second
// (~0.9 ms per MiB), well beyond the few milliseconds a short program's exec and read take, even
// when the machine is idle (a 95 MiB one was hashed first in one CI run).
const MAX = 1024 * 1_048_576;
let hasher: ExecutableHasher;
let source: ProcEventSource | undefined;
let dir = '';

before(async () => {
  if (!isRoot) return;
  hasher = new ExecutableHasher({ maxFileBytes: MAX, cacheEntries: 256, timeoutMs: 60_000 });
  const enricher = new Enricher(host, { ancestryDepth: 4, maxProcesses: 65_536, hasher });
  source = await ProcEventSource.start({
    onEvents: (evs: ProcEvent[]) => {
      for (const e of evs) {
        const x = enricher.enrich(e, e.procSnapshot);
        if (e.kind === 'exec' || e.kind === 'exit') out.push({ x, a: recordAttributes(x, `process.${e.kind}`, ctx) });
      }
    },
  });
  dir = mkdtempSync(join(tmpdir(), 'cnproc-exe-'));
});
after(async () => {
  await source?.stop();
  await hasher?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sha256sum = (p: string): string => (execFileSync('sha256sum', [p], { encoding: 'utf8' }).split(' ')[0] as string).trim();
const readelfBuildId = (p: string): string | undefined =>
  /Build ID: ([0-9a-f]+)/.exec(execFileSync('readelf', ['-n', p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[1];

/** Runs `cmd args` and returns its last exec's and its exit's records (the exec of `exe` when given). */
async function runOnce(cmd: string, args: string[], exe?: string) {
  const { pid, code } = await run(cmd, args);
  assert.equal(code, 0, `${cmd} ran`);
  const exit = await waitFor(`exit of ${cmd}`, () =>
    out.find((o) => o.x.event.kind === 'exit' && o.x.event.tgid === pid && !o.x.event.isThread),
  );
  const exec = out
    .filter((o) => o.x.event.kind === 'exec' && o.x.event.tgid === pid && (exe === undefined || o.x.process?.exe === exe))
    .pop();
  return { pid, exec, exit };
}

/** Runs a short-lived program until one exec record has its program file (a /bin/true can be gone before the read). */
async function runUntilRead(cmd: string, args: string[], exe: string) {
  for (let i = 0; i < 30; i++) {
    const r = await runOnce(cmd, args, exe);
    if (r.exec?.x.process?.exeFile) return r as typeof r & { exec: NonNullable<typeof r.exec> };
  }
  throw new Error(`no exec record of ${exe} with its file read in 30 runs`);
}

/** Resolves once the hasher settled `f`. */
function settled(f: ExecutableFile): Promise<ExecutableFile> {
  return waitFor(`hash of ${f.ino}`, () => f.hashState !== 'pending' && f, 20_000);
}

const PROG = `#include <unistd.h>
int main(int argc, char **argv) { if (argc > 1) usleep(1000000); return 0; }
`;
const BUILD_ID = '0123456789abcdef0123456789abcdef01234567';

describe('the program file of real execs', () => {
  test('a gcc-built program: its build id, identity and owner at exec; its hash late on the first exec, then cached', async (t) => {
    if (!needsRoot(t)) return;
    const src = join(dir, 'prog.c');
    const prog = join(dir, 'prog');
    writeFileSync(src, PROG);
    execFileSync('cc', ['-O2', `-Wl,--build-id=0x${BUILD_ID}`, '-o', prog, src]);
    chmodSync(prog, 0o4750);
    assert.equal(readelfBuildId(prog), BUILD_ID, 'readelf agrees with what the linker was told');
    const first = await runUntilRead(prog, ['wait'], prog);
    const a = first.exec.a;
    const st = statSync(prog, { bigint: true });
    assert.equal(a['process.executable.build_id.gnu'], BUILD_ID);
    assert.equal(a['cnproc.process.executable.size'], Number(st.size));
    assert.equal(a['cnproc.process.executable.inode'], String(st.ino));
    assert.equal(a['cnproc.process.executable.mode'], '4750');
    assert.equal(a['cnproc.process.executable.owner.id'], 0);
    assert.equal(a['cnproc.process.executable.group.id'], 0);
    const sec = st.mtimeNs / 1_000_000_000n;
    const iso = `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}.${String(st.mtimeNs % 1_000_000_000n).padStart(9, '0')}Z`;
    assert.equal(a['cnproc.process.executable.mtime'], iso);
    const dev = execFileSync('stat', ['-c', '%Hd:%Ld', prog], { encoding: 'utf8' }).trim();
    assert.equal(a['cnproc.process.executable.device'], dev);
    // First exec of this file: the record went out without waiting for the hash.
    assert.equal(a['cnproc.process.executable.hash.sha256'], undefined);
    assert.equal(a['cnproc.process.executable.hash.missing'], 'pending');
    const f = await settled(first.exec.x.process?.exeFile as ExecutableFile);
    assert.equal(f.sha256, sha256sum(prog));
    // Its exit, a second later, carries it: a later record of the same process, made once the hash was there.
    assert.equal(first.exit.a['cnproc.process.executable.hash.sha256'], f.sha256);
    const second = await runUntilRead(prog, [], prog);
    assert.equal(second.exec.a['cnproc.process.executable.hash.sha256'], sha256sum(prog), 'cached: on the exec record itself');
    assert.equal(second.exit.a['cnproc.process.executable.hash.sha256'], sha256sum(prog));
  });

  test('a copy of /bin/true: the hash equals sha256sum, the build id equals readelf', async (t) => {
    if (!needsRoot(t)) return;
    const exe = join(dir, 'true-copy');
    copyFileSync('/bin/true', exe);
    chmodSync(exe, 0o755);
    const r = await runUntilRead(exe, [], exe);
    assert.equal(r.exec.a['process.executable.build_id.gnu'], readelfBuildId(exe));
    const f = await settled(r.exec.x.process?.exeFile as ExecutableFile);
    assert.deepEqual([f.hashState, f.sha256], ['hashed', sha256sum(exe)]);
    // A shell script is not an executable: the kernel runs its interpreter, which is what is described.
    const script = join(dir, 'script');
    writeFileSync(script, '#!/bin/sh\nsleep 0.2\n');
    chmodSync(script, 0o755);
    const s = await runOnce(script, []);
    assert.equal(s.exec?.x.process?.exeFile?.size, statSync(execFileSync('readlink', ['-f', '/bin/sh'], { encoding: 'utf8' }).trim()).size);
  });

  test('a file replaced after its exec gets no hash, whether the hasher finds it through /proc/<pid>/exe or its path', async (t) => {
    if (!needsRoot(t)) return;
    // Keeps the hasher busy: a sparse ~1 GiB executable (sleep with a hole after it) that sleeps 3 s.
    const busy = join(dir, 'busy');
    copyFileSync('/usr/bin/sleep', busy);
    truncateSync(busy, MAX - 1_048_576);
    chmodSync(busy, 0o755);
    const busyRun = run(busy, ['3']);
    await waitFor('the busy file queued', () => out.some((o) => o.x.event.kind === 'exec' && o.x.process?.exe === busy));
    // Alive while hashed: replaced by rename, the process still runs the original inode, whose
    // ctime the unlink moved: the hasher cannot tell that from a write with its mtime put back.
    const live = join(dir, 'live');
    copyFileSync('/usr/bin/sleep', live);
    chmodSync(live, 0o755);
    const liveRun = run(live, ['2']);
    const lx = await waitFor('exec of live', () => out.find((o) => o.x.event.kind === 'exec' && o.x.process?.exe === live));
    const other = join(dir, 'live.new');
    writeFileSync(other, '#!/bin/sh\nexit 0\n');
    renameSync(other, live);
    // Gone before it is hashed, and its path names another file by then: no hash.
    const quick = join(dir, 'quick');
    copyFileSync('/bin/true', quick);
    chmodSync(quick, 0o755);
    const q = await runUntilRead(quick, [], quick);
    const qf = q.exec.x.process?.exeFile as ExecutableFile;
    assert.equal(qf.hashState, 'pending', 'still waiting behind the busy file');
    const repl = join(dir, 'quick.new');
    copyFileSync('/usr/bin/sleep', repl);
    renameSync(repl, quick);
    const lf = await settled(lx.x.process?.exeFile as ExecutableFile);
    assert.deepEqual([lf.hashState, lf.sha256], ['changed', null], 'never the hash of the file at the path now');
    await settled(qf);
    assert.deepEqual([qf.hashState, qf.sha256], ['changed', null]);
    assert.ok(hasher.stats().skipped.changed >= 1);
    await Promise.all([busyRun, liveRun]);
  });

  test('a file above the size limit: described, never read, skipped as too_large', async (t) => {
    if (!needsRoot(t)) return;
    const big = join(dir, 'big');
    copyFileSync('/usr/bin/sleep', big);
    truncateSync(big, MAX + 1);
    chmodSync(big, 0o755);
    const before = hasher.stats();
    const r = await runUntilRead(big, ['0.1'], big);
    assert.equal(r.exec.a['cnproc.process.executable.size'], MAX + 1);
    assert.equal(r.exec.a['cnproc.process.executable.hash.missing'], 'too_large');
    assert.equal(r.exec.a['process.executable.build_id.gnu'], readelfBuildId('/usr/bin/sleep'));
    const after = hasher.stats();
    assert.equal(after.skipped.too_large, before.skipped.too_large + 1);
    assert.equal(after.bytes, before.bytes, 'not a byte read for it');
  });

  test('processes found by the start-up scan: described, and hashed without counting as exec records', async (t) => {
    if (!needsRoot(t)) return;
    const exe = join(dir, 'long-running');
    copyFileSync('/usr/bin/sleep', exe);
    chmodSync(exe, 0o755);
    const child = spawn(exe, ['3'], { stdio: 'ignore' });
    try {
      await waitFor('the program running', () => out.some((o) => o.x.event.kind === 'exec' && o.x.process?.exe === exe));
      const own = new ExecutableHasher({ maxFileBytes: MAX, cacheEntries: 4096, timeoutMs: 60_000 });
      try {
        const entry = scanProc(host, 32_768, '/proc', 'none', null, own).find((p) => p.tgid === child.pid);
        const f = entry?.exeFile as ExecutableFile;
        assert.equal(Number(f.ino), statSync(exe).ino);
        await settled(f);
        assert.deepEqual([f.hashState, f.sha256], ['hashed', sha256sum(exe)]);
        assert.deepEqual([own.stats().execsLate, own.stats().execsWithHash], [0, 0], 'no exec record to be late');
      } finally {
        await own.close();
      }
    } finally {
      child.kill();
    }
  });

  test('a memfd exec and a deleted executable: identity and build id from the open file, hashed while they run', async (t) => {
    if (!needsRoot(t)) return;
    const sleepSha = sha256sum('/usr/bin/sleep');
    const src = join(dir, 'memfd-exec.c');
    writeFileSync(src, MEMFD_EXEC);
    execFileSync('cc', ['-O2', '-o', join(dir, 'memfd-exec'), src]);
    const m = await runOnce(join(dir, 'memfd-exec'), ['0.5'], '/memfd:payload (deleted)');
    const mf = m.exec?.x.process?.exeFile as ExecutableFile;
    assert.ok(mf, 'the memfd was described');
    assert.equal(mf.size, statSync('/usr/bin/sleep').size);
    assert.equal(mf.nlink, 0);
    assert.equal(m.exec?.a['process.executable.build_id.gnu'], readelfBuildId('/usr/bin/sleep'));
    await settled(mf);
    assert.deepEqual([mf.hashState, mf.sha256], ['hashed', sleepSha]);
    // Deleted: open the file, unlink it, exec it through the open descriptor.
    const gone = join(dir, 'gone');
    copyFileSync('/usr/bin/sleep', gone);
    chmodSync(gone, 0o755);
    const ino = statSync(gone).ino;
    const d = await runOnce('sh', ['-c', `exec 3<${gone} && rm ${gone} && exec /proc/self/fd/3 0.5`], `${gone} (deleted)`);
    const df = d.exec?.x.process?.exeFile as ExecutableFile;
    assert.equal(Number(df.ino), ino);
    assert.equal(df.nlink, 0);
    await settled(df);
    assert.deepEqual([df.hashState, df.sha256], ['hashed', sleepSha]);
  });
});
