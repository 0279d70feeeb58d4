/**
 * packaging/systemd: the unit passes `systemd-analyze verify` (in a scratch root that holds the
 * system's own units, the wrapper and /bin/kill, so every referenced path is checked), carries
 * the settings the agent depends on, and keeps a low `systemd-analyze security` exposure. The
 * sysusers.d file creates the user the unit runs as.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const UNIT_FILE = join(REPO, 'packaging/systemd/cnproc-otel.service');
const SYSUSERS_FILE = join(REPO, 'packaging/systemd/cnproc-otel.sysusers');
const UNIT = readFileSync(UNIT_FILE, 'utf8');

const tmp = mkdtempSync(join(tmpdir(), 'cnproc-systemd-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Section → key → values (a key may repeat), comments and blank lines dropped. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1] as string, current);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(current && eq > 0, `unit line outside a section or without '=': ${line}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

const unit = parseUnit(UNIT);
function values(section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? [];
}
function one(section: string, key: string): string | undefined {
  const v = values(section, key);
  assert.ok(v.length <= 1, `${key} is set ${v.length} times`);
  return v[0];
}

function systemdAnalyze(args: string[]): { status: number | null; output: string } {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`systemd-analyze: ${r.error.message} (Debian package systemd; .ci/run installs it)`);
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/** A root with the system's units, the unit under test, and executables for every Exec path. */
function scratchRoot(name: string, unitText: string): string {
  const root = join(tmp, name);
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  symlinkSync('usr/bin', join(root, 'bin'));
  symlinkSync('usr/lib', join(root, 'lib'));
  cpSync(realpathSync('/lib/systemd/system'), join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  writeFileSync(join(root, 'usr/lib/systemd/system/cnproc-otel.service'), unitText);
  copyFileSync(join(REPO, 'packaging/deb/cnproc-otel'), join(root, 'usr/bin/cnproc-otel'));
  spawnSync('chmod', ['0755', join(root, 'usr/bin/cnproc-otel')]);
  copyFileSync(realpathSync('/bin/kill'), join(root, 'usr/bin/kill'));
  return root;
}

function verify(root: string): { status: number | null; output: string } {
  return systemdAnalyze(['verify', '--man=no', `--root=${root}`, 'cnproc-otel.service']);
}

describe('systemd unit', () => {
  test('systemd-analyze verify passes with no warnings', () => {
    const r = verify(scratchRoot('ok', UNIT));
    assert.equal(r.status, 0, r.output);
    assert.equal(r.output, '', 'verify printed warnings');
  });

  test('the verify check catches mistakes (it warns but exits 0 on unknown keys and bad values)', () => {
    const broken = UNIT.replace('Restart=on-failure', 'Restart=sometimes\nProtectHomee=yes');
    const r = verify(scratchRoot('broken', broken));
    assert.match(r.output, /Unknown key 'ProtectHomee'/);
    assert.match(r.output, /restart specifier.*sometimes/i);
    const missing = UNIT.replace('ExecStart=/usr/bin/cnproc-otel', 'ExecStart=/usr/bin/cnproc-otel-missing');
    assert.notEqual(verify(scratchRoot('missing', missing)).status, 0, 'a missing executable fails verify');
  });

  test('service type, command, reload and stop', () => {
    assert.equal(one('Service', 'Type'), 'simple');
    assert.deepEqual(values('Service', 'WatchdogSec'), [], 'no sd_notify in the agent: no watchdog');
    assert.match(UNIT, /no sd_notify|does not implement sd_notify/, 'the unit says why there is no watchdog');
    assert.equal(one('Service', 'ExecStart'), '/usr/bin/cnproc-otel --config /etc/cnproc-otel/config.yaml');
    assert.deepEqual(values('Service', 'ExecReload'), [
      '/usr/bin/cnproc-otel --check-config /etc/cnproc-otel/config.yaml',
      '/bin/kill -HUP $MAINPID',
    ]);
    assert.equal(one('Service', 'EnvironmentFile'), '-/etc/default/cnproc-otel');
    assert.equal(one('Service', 'KillSignal'), 'SIGTERM');
    assert.equal(one('Service', 'Restart'), 'on-failure');
    assert.equal(one('Service', 'RestartPreventExitStatus'), '64 69 77 78');
    assert.equal(one('Install', 'WantedBy'), 'multi-user.target');
  });

  test('dedicated user with exactly the four capabilities', () => {
    assert.equal(one('Service', 'User'), 'cnproc-otel');
    assert.equal(one('Service', 'Group'), 'cnproc-otel');
    const caps = ['CAP_DAC_READ_SEARCH', 'CAP_NET_ADMIN', 'CAP_SYS_NICE', 'CAP_SYS_PTRACE'];
    assert.deepEqual((one('Service', 'CapabilityBoundingSet') ?? '').split(/\s+/).sort(), caps);
    assert.deepEqual((one('Service', 'AmbientCapabilities') ?? '').split(/\s+/).sort(), caps);
    assert.equal(one('Service', 'NoNewPrivileges'), 'yes');
  });

  test('sandbox: on where it is harmless, off where it breaks the proc connector', () => {
    assert.equal(one('Service', 'ProtectSystem'), 'strict');
    assert.equal(one('Service', 'ProtectHome'), 'yes');
    assert.equal(one('Service', 'PrivateTmp'), 'yes');
    assert.equal(one('Service', 'StateDirectory'), 'cnproc-otel');
    assert.equal(one('Service', 'ConfigurationDirectory'), 'cnproc-otel');
    assert.match(one('Service', 'RestrictAddressFamilies') ?? '', /\bAF_NETLINK\b/);
    // Other network/user/PID namespaces: the kernel refuses or ignores the subscription.
    for (const key of [
      'PrivateNetwork',
      'PrivateUsers',
      'PrivatePIDs',
      'ProtectProc',
      'ProcSubset',
      'MemoryDenyWriteExecute',
      'DynamicUser',
    ]) {
      assert.deepEqual(values('Service', key), [], `${key} must not be set`);
    }
  });

  test('systemd-analyze security: exposure stays low', () => {
    const r = systemdAnalyze([
      'security',
      '--offline=true',
      `--root=${scratchRoot('security', UNIT)}`,
      '--no-pager',
      'cnproc-otel.service',
    ]);
    const m = /Overall exposure level for cnproc-otel\.service: (\d+(?:\.\d+)?)/.exec(r.output);
    assert.ok(m, r.output);
    assert.ok(Number(m[1]) <= 3.5, `exposure ${m[1]} (of 10) is higher than 3.5:\n${r.output}`);
  });

  test('sysusers.d creates the unit user, homed in the state directory', () => {
    const text = readFileSync(SYSUSERS_FILE, 'utf8');
    assert.match(text, /^u cnproc-otel - "[^"]+" \/var\/lib\/cnproc-otel \/usr\/sbin\/nologin$/m);
    const root = join(tmp, 'sysusers');
    mkdirSync(join(root, 'etc'), { recursive: true });
    const r = spawnSync('systemd-sysusers', [`--root=${root}`, SYSUSERS_FILE], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
    assert.match(passwd, /^cnproc-otel:x:\d+:\d+:[^:]*:\/var\/lib\/cnproc-otel:\/usr\/sbin\/nologin$/m);
    const uid = Number(/^cnproc-otel:x:(\d+):/m.exec(passwd)?.[1]);
    assert.ok(uid > 0 && uid < 1000, `a system uid, got ${uid}`);
    assert.match(readFileSync(join(root, 'etc/group'), 'utf8'), /^cnproc-otel:x:\d+:/m);
  });
});
