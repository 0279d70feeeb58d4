/**
 * The raw /proc reader of the capture thread: live, reaped and zombie processes, and a fake /proc
 * tree for the cases a real process cannot be made to show (truncation, a missing file).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { decodeExeFile } from '../../src/kernel/exe-file.js';
import { type Attachment, ProcFile, ProcFileReader, ReadStatus } from '../../src/kernel/proc-files.js';

const dec = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const byFile = (out: Attachment[]): Map<number, Attachment> => new Map(out.map((a) => [a.file, a]));
/** Above the largest pid_max Linux allows (2^22): never a live process. */
const NO_SUCH_PID = 4_194_305;

const EXEC_ORDER = [
  ProcFile.cmdline,
  ProcFile.exe,
  ProcFile.exeFile,
  ProcFile.stat,
  ProcFile.status,
  ProcFile.cwd,
  ProcFile.cgroup,
  ProcFile.loginuid,
  ProcFile.sessionid,
];

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function fakeProc(files: Record<string, string>, links: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'cnproc-fake-proc-'));
  dirs.push(root);
  const dir = join(root, '4242');
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content, 'latin1');
  for (const [name, target] of Object.entries(links)) symlinkSync(target, join(dir, name));
  return root;
}

const STAT = '4242 (sleep) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 1000 200';

test('a live process: every file of an exec snapshot, in order, with the same bytes /proc gives', () => {
  const r = new ProcFileReader(32_768);
  const out: Attachment[] = [];
  r.execSnapshot(process.pid, out);
  assert.deepEqual(
    out.map((a) => a.file),
    EXEC_ORDER,
  );
  for (const a of out) assert.equal(a.status, ReadStatus.ok, `file ${a.file}`);
  const m = byFile(out);
  assert.equal(dec(m.get(ProcFile.exe)?.bytes as Uint8Array), realpathSync(process.execPath));
  assert.equal(dec(m.get(ProcFile.cwd)?.bytes as Uint8Array), process.cwd());
  assert.deepEqual(m.get(ProcFile.cmdline)?.bytes, new Uint8Array(readFileSync('/proc/self/cmdline')));
  assert.deepEqual(m.get(ProcFile.cgroup)?.bytes, new Uint8Array(readFileSync('/proc/self/cgroup')));
  assert.match(dec(m.get(ProcFile.stat)?.bytes as Uint8Array), new RegExp(`^${process.pid} \\(`));
  assert.match(dec(m.get(ProcFile.status)?.bytes as Uint8Array), /\nUid:\t/);
  // The program file: the identity stat gives, and the build id readelf prints.
  const f = decodeExeFile(m.get(ProcFile.exeFile)?.bytes as Uint8Array);
  const st = statSync(process.execPath, { bigint: true });
  assert.deepEqual(
    [f?.dev, f?.ino, f?.size, f?.mode, f?.uid, f?.gid, f?.mtimeNs, f?.ctimeNs],
    [Number(st.dev), st.ino, Number(st.size), Number(st.mode), Number(st.uid), Number(st.gid), st.mtimeNs, st.ctimeNs],
  );
  const notes = execFileSync('readelf', ['-n', process.execPath], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  assert.equal(f?.buildId ?? f?.buildIdMissing, /Build ID: ([0-9a-f]+)/.exec(notes)?.[1] ?? 'none');

  // process.executableFile false: the program file is not read.
  const plain: Attachment[] = [];
  new ProcFileReader(32_768, '/proc', false).execSnapshot(process.pid, plain);
  assert.deepEqual(
    plain.map((a) => a.file),
    EXEC_ORDER.filter((x) => x !== ProcFile.exeFile),
  );

  const fork: Attachment[] = [];
  r.forkSnapshot(process.pid, fork);
  assert.equal(fork.length, 1);
  assert.equal(fork[0]?.file, ProcFile.stat);
  assert.match(dec(fork[0]?.bytes as Uint8Array), new RegExp(`^${process.pid} \\(`));
});

test('a process that is gone: every file is marked gone, nothing is thrown', () => {
  const r = new ProcFileReader(4096);
  const out: Attachment[] = [];
  r.execSnapshot(NO_SUCH_PID, out);
  assert.deepEqual(
    out.map((a) => [a.file, a.status, a.bytes.length]),
    EXEC_ORDER.map((f) => [f, ReadStatus.gone, 0]),
  );
  const fork: Attachment[] = [];
  r.forkSnapshot(NO_SUCH_PID, fork);
  assert.deepEqual(
    fork.map((a) => [a.file, a.status]),
    [[ProcFile.stat, ReadStatus.gone]],
  );
});

test('a zombie: no command line or executable, but stat and status are still there', async () => {
  // The background child exits after the shell has become `sleep 3`, which never reaps it.
  const sh = spawn('sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 3'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const pid = await new Promise<number>((resolve) => sh.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    const until = Date.now() + 2000;
    while (!/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'latin1')) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    const out: Attachment[] = [];
    new ProcFileReader(4096).execSnapshot(pid, out);
    const m = byFile(out);
    assert.equal(out.length, EXEC_ORDER.length);
    assert.deepEqual([m.get(ProcFile.cmdline)?.status, m.get(ProcFile.cmdline)?.bytes.length], [ReadStatus.ok, 0]);
    assert.equal(m.get(ProcFile.exe)?.status, ReadStatus.gone);
    assert.equal(m.get(ProcFile.exeFile)?.status, ReadStatus.gone, 'the program file went with the memory');
    assert.equal(m.get(ProcFile.stat)?.status, ReadStatus.ok);
    assert.match(dec(m.get(ProcFile.stat)?.bytes as Uint8Array), /\(sleep\) Z /);
    assert.equal(m.get(ProcFile.status)?.status, ReadStatus.ok);
  } finally {
    sh.kill();
  }
});

test('a fake /proc tree: files and links read relative to the process directory; cmdline cut at maxBytes', () => {
  const root = fakeProc(
    { cmdline: 'a\0bbbbbbbbbb\0', stat: STAT, status: 'Uid:\t0\t0\t0\t0\n', cgroup: '0::/x\n', loginuid: '1000', sessionid: '3' },
    { exe: '/usr/bin/sleep', cwd: '/tmp' },
  );
  const out: Attachment[] = [];
  new ProcFileReader(8, root).execSnapshot(4242, out);
  const m = byFile(out);
  assert.deepEqual(
    [m.get(ProcFile.cmdline)?.status, dec(m.get(ProcFile.cmdline)?.bytes as Uint8Array)],
    [ReadStatus.truncated, 'a\0bbbbbb'],
  );
  assert.equal(dec(m.get(ProcFile.exe)?.bytes as Uint8Array), '/usr/bin/sleep');
  assert.equal(dec(m.get(ProcFile.cwd)?.bytes as Uint8Array), '/tmp');
  // A plain symlink here: the program file is whatever it leads to.
  assert.equal(decodeExeFile(m.get(ProcFile.exeFile)?.bytes as Uint8Array)?.ino, statSync('/usr/bin/sleep', { bigint: true }).ino);
  // The other files have their own limits, above the command line's.
  assert.equal(dec(m.get(ProcFile.stat)?.bytes as Uint8Array), STAT);
  assert.equal(dec(m.get(ProcFile.loginuid)?.bytes as Uint8Array), '1000');
  assert.equal(dec(m.get(ProcFile.sessionid)?.bytes as Uint8Array), '3');
  for (const a of out) if (a.file !== ProcFile.cmdline) assert.equal(a.status, ReadStatus.ok);
});

test('a missing link goes on; a missing regular file means reaped and ends the snapshot', () => {
  const noExe = fakeProc({ cmdline: '', stat: STAT, status: '', cgroup: '', loginuid: '', sessionid: '' }, { cwd: '/' });
  const a: Attachment[] = [];
  new ProcFileReader(64, noExe).execSnapshot(4242, a);
  assert.deepEqual(
    a.map((x) => x.status),
    [
      ReadStatus.ok,
      ReadStatus.gone,
      ReadStatus.gone,
      ReadStatus.ok,
      ReadStatus.ok,
      ReadStatus.ok,
      ReadStatus.ok,
      ReadStatus.ok,
      ReadStatus.ok,
    ],
  );

  const noCmdline = fakeProc({ stat: STAT }, { exe: '/bin/true', cwd: '/' });
  const b: Attachment[] = [];
  new ProcFileReader(64, noCmdline).execSnapshot(4242, b);
  assert.deepEqual(
    b.map((x) => [x.file, x.status]),
    EXEC_ORDER.map((f) => [f, ReadStatus.gone]),
  );
});
