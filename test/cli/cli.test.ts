/**
 * The command line end to end: exit codes, config errors, and the running agent against the real
 * kernel (root).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as abi from '../../src/kernel/abi.js';
import { ProcConnectorSocket } from '../../src/kernel/socket.js';
import { CLI, childPidOf, runCli, startCli } from '../helpers/cli.js';
import { needsRoot, run, waitFor } from '../helpers/kernel.js';

const dir = mkdtempSync(join(tmpdir(), 'cnproc-cli-'));

describe('cli: options and config errors', () => {
  test('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = runCli(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), `cnproc-otel ${pkg.version}`);
  });

  test('--help lists options and exit codes', () => {
    const r = runCli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--console-format/);
    assert.match(r.stdout, /78 bad configuration/);
  });

  test('an unknown option exits 64 and names it', () => {
    const r = runCli(['--consol-format', 'json']);
    assert.equal(r.code, 64);
    assert.match(r.stderr, /unknown option '--consol-format'/);
  });

  test('a bad flag value exits 78 with key, value and what is allowed', () => {
    const r = runCli(['--console-format', 'xml']);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /console\.format: must be one of: auto, pretty, json: value was "xml"/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  });

  test('--check-config: valid file exits 0, invalid exits 78 with file and line', () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'capture:\n  events: [exec, exit]\n  receiveBufferBytes: 32MiB\n');
    assert.equal(runCli(['--check-config', good]).code, 0);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'capture:\n  events: [exec, exot]\nconsole:\n  colour: yes\n');
    const r = runCli(['--check-config', bad]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, new RegExp(`${bad}:2: capture\\.events: "exot" is not one of`));
    assert.match(r.stderr, new RegExp(`${bad}:4: unknown key 'console\\.colour'`));
  });

  test('a missing config file exits 78', () => {
    const r = runCli(['--config', join(dir, 'nope.yaml'), '--print-config']);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /cannot read config file .*nope\.yaml: ENOENT/);
  });

  test('--print-config shows the merged result (flag over env over file)', () => {
    const f = join(dir, 'p.yaml');
    writeFileSync(f, 'console:\n  format: pretty\nlog:\n  level: debug\ncapture:\n  batchMaxDelayMs: 7\n');
    const r = runCli(['--config', f, '--print-config', '--log-level', 'warn'], {
      CNPROC_OTEL_CONSOLE_FORMAT: 'json',
      CNPROC_OTEL_LOG_LEVEL: 'error',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /format: json/);
    assert.match(r.stdout, /level: warn/);
    assert.match(r.stdout, /batchMaxDelayMs: 7/);
  });
});

describe('cli: the running agent (real kernel)', () => {
  test('prints JSON lines for a child process, stops on SIGTERM with exit 0', async (t) => {
    if (!needsRoot(t)) return;
    const agent = startCli(['--console-format', 'json']);
    try {
      await waitFor('subscribed', () => /subscribed to the proc connector/.test(agent.stderr()), 10_000);
      const { pid } = await run('sh', ['-c', 'sleep 0.2; exit 3']);
      const rec = await waitFor('exit line', () =>
        agent
          .stdout()
          .split('\n')
          .filter((l) => l.includes('"eventName":"process.exit"'))
          .map((l) => JSON.parse(l) as { attributes: Record<string, unknown>; [k: string]: unknown })
          .find((e) => e.attributes['process.pid'] === pid),
      );
      const a = rec.attributes;
      assert.equal(a['process.exit.code'], 3);
      assert.equal(rec.severityText, 'WARN');
      assert.match(String(rec.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      assert.match(String(rec.timeUnixNano), /^\d{19}$/);
      // The exit record carries the process as it was at exec.
      assert.equal(a['process.executable.path'], '/usr/bin/dash');
      assert.deepEqual(a['process.command_args'], ['sh', '-c', 'sleep 0.2; exit 3']);
      assert.equal(a['process.user.name'], 'root');
      assert.match(String(a['cnproc.process.entity_id']), /^[0-9a-f]{32}$/);
      assert.ok(typeof a['cnproc.process.lifetime_ns'] === 'number' && a['cnproc.process.lifetime_ns'] >= 150e6);
      const lines = agent.stdout().trim().split('\n');
      for (const l of lines) JSON.parse(l);
    } finally {
      agent.child.kill('SIGTERM');
    }
    assert.equal(await agent.exited, 0);
    assert.match(agent.stderr(), /stopped: \d+ events delivered, 0 lost/);
  });

  test('pretty output on request', async (t) => {
    if (!needsRoot(t)) return;
    const agent = startCli(['--console-format', 'pretty', '--events', 'exec,exit']);
    try {
      await waitFor('subscribed', () => /kernel filter: exec,exit/.test(agent.stderr()), 10_000);
      const { pid } = await run('sh', ['-c', 'sleep 0.1; exit 4']);
      await waitFor('exit line', () =>
        new RegExp(`Z WARN +process\\.exit +exit 4 sh -c sleep 0\\.1; exit 4 \\(pid ${pid}\\)`).test(agent.stdout()),
      );
    } finally {
      agent.child.kill('SIGINT');
    }
    assert.equal(await agent.exited, 0);
  });

  test('IGNORE is sent on SIGTERM (seen by strace)', async (t) => {
    if (!needsRoot(t)) return;
    const trace = join(dir, 'sigterm.trace');
    const agent = startCli(['--console-format', 'json'], ['strace', '-f', '-qq', '-e', 'trace=sendto', '-s', '64', '-o', trace]);
    await waitFor('subscribed', () => /subscribed to the proc connector/.test(agent.stderr()), 20_000);
    // Signal the agent, not strace (which would hold on to a signal meant for its tracee).
    const agentPid = childPidOf(agent.child.pid as number);
    assert.ok(agentPid, 'agent pid under strace');
    process.kill(agentPid, 'SIGTERM');
    assert.equal(await agent.exited, 0);
    const sends = readFileSync(trace, 'utf8');
    assert.match(sends, /\\x04\\x00\\x00\\x00\\x02\\x00\\x00\\x00"\], 40, 0, NULL, 0\) = 40/, 'IGNORE (op 2) sent');
  });

  test('IGNORE is sent when the agent dies of an uncaught error', async (t) => {
    if (!needsRoot(t)) return;
    const trace = join(dir, 'crash.trace');
    const script = join(dir, 'crash.mjs');
    const src = new URL('../../src/kernel/source.js', import.meta.url).href;
    writeFileSync(
      script,
      `import { ProcEventSource } from '${src}';\nawait ProcEventSource.start({ onEvents() {} });\nsetTimeout(() => { throw new Error('boom'); }, 50);\n`,
    );
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=sendto', '-s', '64', '-o', trace, process.execPath, script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /boom/);
    assert.match(readFileSync(trace, 'utf8'), /\\x04\\x00\\x00\\x00\\x02\\x00\\x00\\x00"\], 40, 0, NULL, 0\) = 40/);
  });

  test("another listener's ack does not confirm a subscription the kernel ignored (user namespace, exit 69)", async (t) => {
    if (!needsRoot(t)) return;
    // A second listener in the host namespaces subscribes over and over: the kernel multicasts each
    // answer to every listener, the namespaced agent included, which must not take it for its own.
    const other = new ProcConnectorSocket(4);
    const timer = setInterval(() => other.sendOp(abi.PROC_CN_MCAST_LISTEN, abi.PROC_EVENT_ALL), 20);
    try {
      const child = spawn('unshare', ['--user', '--map-root-user', process.execPath, CLI, '--metrics-port', '0'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      clearTimeout(killer);
      assert.equal(code, 69, err);
      assert.match(err, /runs in a user namespace/);
    } finally {
      clearInterval(timer);
      other.sendOp(abi.PROC_CN_MCAST_IGNORE, null);
      other.close();
    }
  });

  test('clear errors outside the host namespaces (exit 69)', (t) => {
    if (!needsRoot(t)) return;
    const cases: Array<[string[], RegExp]> = [
      [['--user', '--map-root-user'], /runs in a user namespace/],
      [['--net'], /ECONNREFUSED.*host network namespace/],
      [['--pid', '--fork', '--mount-proc'], /child PID namespace.*hostPID/],
    ];
    for (const [flags, message] of cases) {
      const r = spawnSync('unshare', [...flags, process.execPath, new URL('../../src/cli/main.js', import.meta.url).pathname], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(r.status, 69, `unshare ${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    }
  });
});
