/**
 * The .deb (packaging/deb/build-deb.sh, `npm run package:deb`): builds it, inspects its control
 * data and contents, runs the bundled command from an unpacked tree, installs it with dpkg into a
 * scratch root (maintainer scripts included: user, unit enablement), runs the agent from there
 * against the real kernel (root), then removes and purges it. The maintainer scripts' actions on
 * a running systemd are checked with stand-in systemctl / deb-systemd-* commands.
 *
 * Needs dpkg-deb, dpkg, systemd-sysusers and deb-systemd-helper (Debian: dpkg, systemd), the npm
 * registry (dependencies and the Node.js runtime), and a few minutes (xz compression).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
};
const DEB_VERSION = `${PKG.version.replace('-', '~')}-1`;
const APP = 'usr/lib/cnproc-otel';
const isRoot = process.getuid?.() === 0;

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeout?: number } = {}) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: opts.timeout ?? 120_000,
    env: opts.env,
    input: opts.input,
  });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): string {
  const r = run(cmd, args, opts);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

interface Entry {
  mode: string;
  owner: string;
  size: number;
  link?: string;
}

/** `dpkg-deb -c` → path (no leading ./, directories without the trailing /) → entry. */
function contents(deb: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const line of ok('dpkg-deb', ['-c', deb]).split('\n')) {
    if (!line) continue;
    const m = /^(\S+) (\S+\/\S+)\s+(\d+) \S+ \S+ \.\/(.*?)(?: -> (.*))?$/.exec(line);
    assert.ok(m, `unparsed dpkg-deb -c line: ${line}`);
    const path = (m[4] as string).replace(/\/$/, '');
    if (path === '') continue;
    out.set(path, { mode: m[1] as string, owner: m[2] as string, size: Number(m[3]), ...(m[5] ? { link: m[5] } : {}) });
  }
  return out;
}

describe('deb package', { timeout: 20 * 60_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cnproc-deb-'));
  let deb = '';
  let files = new Map<string, Entry>();
  after(() => rmSync(tmp, { recursive: true, force: true }));

  before(() => {
    const r = run('bash', [join(REPO, 'packaging/deb/build-deb.sh'), '--out', join(tmp, 'out')], { timeout: 15 * 60_000 });
    assert.equal(r.code, 0, `build-deb.sh failed:\n${r.stderr}`);
    deb = r.stdout.trim().split('\n').pop() as string;
    assert.equal(deb, join(tmp, 'out', `cnproc-otel_${DEB_VERSION}_amd64.deb`));
    files = contents(deb);
  });

  test('control data: name, version, architecture, dependencies', () => {
    const field = (name: string) => ok('dpkg-deb', ['-f', deb, name]).trim();
    assert.equal(field('Package'), 'cnproc-otel');
    assert.equal(field('Version'), DEB_VERSION);
    assert.equal(field('Architecture'), 'amd64');
    assert.match(field('Maintainer'), /^.+ <[^>]+@[^>]+>$/);
    const depends = field('Depends');
    // The bundled node needs GLIBC_2.28 and CXXABI_1.3.9, koffi's module CXXABI_1.3.11 (GCC 7).
    assert.match(depends, /libc6 \(>= 2\.28\)/);
    assert.match(depends, /libstdc\+\+6 \(>= 7\)/);
    assert.match(depends, /systemd/, 'postinst runs systemd-sysusers');
    assert.doesNotMatch(depends, /\bnodejs\b/, 'the runtime is bundled');
    assert.ok(Number(field('Installed-Size')) > 100_000, 'Installed-Size in KiB, runtime included');
    assert.match(field('Description'), /OpenTelemetry/);
  });

  test('contents: layout, owners and modes', () => {
    const expect = (path: string, mode: string) => {
      const e = files.get(path);
      assert.ok(e, `${path} is missing`);
      assert.equal(e.mode, mode, `${path} mode`);
      assert.equal(e.owner, 'root/root', `${path} owner`);
    };
    expect('usr/bin/cnproc-otel', '-rwxr-xr-x');
    expect(`${APP}/node/bin/node`, '-rwxr-xr-x');
    expect(`${APP}/node/LICENSE`, '-rw-r--r--');
    expect(`${APP}/package.json`, '-rw-r--r--');
    expect(`${APP}/dist/src/cli/main.js`, '-rw-r--r--');
    expect(`${APP}/dist/src/kernel/capture-worker.js`, '-rw-r--r--');
    expect('lib/systemd/system/cnproc-otel.service', '-rw-r--r--');
    expect('usr/lib/sysusers.d/cnproc-otel.conf', '-rw-r--r--');
    expect('etc/cnproc-otel/config.yaml', '-rw-r--r--');
    expect('etc/default/cnproc-otel', '-rw-------');
    expect('usr/share/doc/cnproc-otel/copyright', '-rw-r--r--');
    expect('usr/share/doc/cnproc-otel/collector/gateway.yaml', '-rw-r--r--');
    for (const [path, e] of files) {
      assert.equal(e.owner, 'root/root', `${path} owner`);
      assert.ok(!/^.{5}w|^.{8}w/.test(e.mode) || e.mode.startsWith('l'), `${path} is group- or world-writable: ${e.mode}`);
    }
    assert.ok((files.get(`${APP}/node/bin/node`) as Entry).size > 50 << 20, 'the node binary is the real one');
  });

  test('contents: production node_modules only, with the koffi native module', () => {
    for (const dep of Object.keys(PKG.dependencies)) {
      assert.ok(files.has(`${APP}/node_modules/${dep}/package.json`), `dependency ${dep} is missing`);
    }
    assert.ok(files.has(`${APP}/node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node`), 'koffi linux-x64 binary');
    for (const dev of ['typescript', '@biomejs/biome', '@types/node']) {
      assert.ok(!files.has(`${APP}/node_modules/${dev}`), `dev dependency ${dev} is in the package`);
    }
    const paths = [...files.keys()];
    const outsideSrc = paths.filter((p) => p.startsWith(`${APP}/dist/`) && !p.startsWith(`${APP}/dist/src`));
    assert.deepEqual(outsideSrc, [], 'dist holds src only (no tests, no benchmarks)');
    assert.deepEqual(
      paths.filter((p) => /\.(map|d\.ts)$/.test(p)),
      [],
      'no source maps or declarations',
    );
  });

  test('only what runs: no build sources, no musl build, no scripts; a stripped runtime and a man page', () => {
    const paths = [...files.keys()];
    assert.deepEqual(
      paths.filter((p) => /\.(c|cc|h|hh|S|asm)$/.test(p)),
      [],
      'C, C++ or assembly sources in the package',
    );
    assert.ok(!paths.some((p) => p.includes('/musl_x64/')), "koffi's musl build (the runtime is glibc)");
    assert.ok(!files.has(`${APP}/node_modules/yaml/bin.mjs`), "yaml's command-line script");
    assert.ok(files.has('usr/share/man/man8/cnproc-otel.8.gz'), 'the man page');
    assert.ok(files.has('usr/share/lintian/overrides/cnproc-otel'), 'the lintian overrides');
    const root = join(tmp, 'inspect');
    ok('dpkg-deb', ['-x', deb, root]);
    const man = ok('sh', ['-c', `gzip -dc ${join(root, 'usr/share/man/man8/cnproc-otel.8.gz')}`]);
    assert.match(man, /^\.TH CNPROC-OTEL "8"/m, 'a section 8 page');
    assert.match(man, /\\-\\-otlp\\-endpoint/, 'generated from --help');
    assert.doesNotMatch(readFileSync(join(root, APP, 'dist/src/cli/main.js'), 'utf8'), /^#!/, 'no #! line in main.js');
    const sections = ok('sh', ['-c', `LC_ALL=C readelf -S ${join(root, APP, 'node/bin/node')}`]);
    assert.doesNotMatch(sections, /\.symtab/, 'the runtime is stripped');
  });

  test('lintian: no error or warning, and every override still matches something', { timeout: 10 * 60_000 }, () => {
    const r = run('lintian', ['--fail-on', 'error,warning', '--display-info', '--tag-display-limit', '0', deb], { timeout: 10 * 60_000 });
    assert.equal(r.code, 0, `lintian found errors or warnings (exit ${r.code}):\n${r.stdout}${r.stderr}`);
    const unused = r.stdout.split('\n').filter((l) => /unused-override/.test(l));
    assert.deepEqual(unused, [], 'an override for something that is no longer there');
  });

  test('control archive: conffiles, maintainer scripts, md5sums', () => {
    const control = join(tmp, 'control');
    ok('dpkg-deb', ['-e', deb, control]);
    assert.equal(readFileSync(join(control, 'conffiles'), 'utf8'), '/etc/cnproc-otel/config.yaml\n/etc/default/cnproc-otel\n');
    for (const script of ['postinst', 'prerm', 'postrm']) {
      const path = join(control, script);
      assert.equal(statSync(path).mode & 0o777, 0o755, `${script} mode`);
      assert.match(readFileSync(path, 'utf8'), /^#!\/bin\/sh\n/);
      ok('sh', ['-n', path]);
      assert.equal(readFileSync(path, 'utf8'), readFileSync(join(REPO, 'packaging/deb', script), 'utf8'));
    }
    const md5 = readFileSync(join(control, 'md5sums'), 'utf8');
    assert.match(md5, new RegExp(`^[0-9a-f]{32}  ${APP}/node/bin/node$`, 'm'));
    assert.match(md5, /^[0-9a-f]{32} {2}etc\/cnproc-otel\/config\.yaml$/m);
  });

  test("unpacked anywhere (dpkg-deb -x): the files are the repository's and the command runs", () => {
    const root = join(tmp, 'unpacked');
    ok('dpkg-deb', ['-x', deb, root]);
    const same = (inDeb: string, inRepo: string) =>
      assert.equal(readFileSync(join(root, inDeb), 'utf8'), readFileSync(join(REPO, inRepo), 'utf8'), `${inDeb} differs from ${inRepo}`);
    same('etc/cnproc-otel/config.yaml', 'config/cnproc-otel.yaml');
    same('etc/default/cnproc-otel', 'packaging/deb/default');
    same('lib/systemd/system/cnproc-otel.service', 'packaging/systemd/cnproc-otel.service');
    same('usr/lib/sysusers.d/cnproc-otel.conf', 'packaging/systemd/cnproc-otel.sysusers');
    same('usr/bin/cnproc-otel', 'packaging/deb/cnproc-otel');

    const node = ok(join(root, APP, 'node/bin/node'), ['-p', 'process.version + " " + process.release.lts']).trim();
    assert.match(node, /^v22\.\d+\.\d+ Jod$/, 'Node.js 22 LTS');
    const pkg = JSON.parse(readFileSync(join(root, APP, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(pkg.version, PKG.version);
    assert.equal(pkg.type, 'module');
    assert.equal(pkg.scripts, undefined);

    const cmd = join(root, 'usr/bin/cnproc-otel');
    assert.equal(ok(cmd, ['--version']).trim(), `cnproc-otel ${PKG.version}`);
    assert.match(ok(cmd, ['--check-config', join(root, 'etc/cnproc-otel/config.yaml')]), /valid/);
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'capture:\n  events: [exec, exot]\n');
    assert.equal(run(cmd, ['--check-config', bad]).code, 78);
    assert.equal(run(cmd, ['--no-such-option']).code, 64);
    // The environment file is what systemd reads: KEY=value lines and comments only.
    for (const line of readFileSync(join(root, 'etc/default/cnproc-otel'), 'utf8').split('\n')) {
      assert.ok(line === '' || line.startsWith('#') || /^[A-Z][A-Z0-9_]*=\S*$/.test(line), `not an environment line: ${line}`);
    }
  });

  describe('installed with dpkg into a scratch root', {
    skip: isRoot ? false : 'dpkg -i needs root (CI runs as root, where it must run)',
  }, () => {
    const root = join(tmp, 'root');
    const dpkg = (...args: string[]) =>
      run('dpkg', [`--root=${root}`, '--force-script-chrootless', `--log=${join(tmp, 'dpkg.log')}`, ...args]);

    before(() => {
      // An empty dpkg database that knows the host's copies of what the package depends on, so
      // that dpkg checks Depends for real; and a passwd/group for systemd-sysusers to extend.
      mkdirSync(join(root, 'var/lib/dpkg/info'), { recursive: true });
      mkdirSync(join(root, 'var/lib/dpkg/updates'), { recursive: true });
      mkdirSync(join(root, 'etc'), { recursive: true });
      const status = ok('dpkg-query', ['-s', 'libc6', 'libstdc++6', 'libgcc-s1', 'systemd']);
      writeFileSync(join(root, 'var/lib/dpkg/status'), `${status.trim()}\n\n`);
      writeFileSync(join(root, 'var/lib/dpkg/available'), '');
      writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
      writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
    });

    test('dpkg -i: dependencies satisfied, user created, unit enabled', () => {
      const r = dpkg('-i', deb);
      assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
      assert.match(ok('dpkg', [`--root=${root}`, '-s', 'cnproc-otel']), /^Status: install ok installed$/m);
      const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
      assert.match(passwd, /^cnproc-otel:x:\d+:\d+:[^:]*:\/var\/lib\/cnproc-otel:\/usr\/sbin\/nologin$/m);
      assert.match(readFileSync(join(root, 'etc/group'), 'utf8'), /^cnproc-otel:x:\d+:/m);
      const wants = join(root, 'etc/systemd/system/multi-user.target.wants/cnproc-otel.service');
      assert.equal(readlinkSync(wants), '/lib/systemd/system/cnproc-otel.service');
      assert.ok(existsSync(join(root, 'lib/systemd/system/cnproc-otel.service')));
    });

    test('the installed command runs: --version, --check-config', () => {
      const cmd = join(root, 'usr/bin/cnproc-otel');
      assert.equal(ok(cmd, ['--version']).trim(), `cnproc-otel ${PKG.version}`);
      assert.match(ok(cmd, ['--check-config', join(root, 'etc/cnproc-otel/config.yaml')]), /valid/);
      assert.match(ok(cmd, ['--help']), /Usage: cnproc-otel/);
    });

    test('the installed agent captures a real exec and stops cleanly on SIGTERM', { timeout: 60_000 }, async (t) => {
      if (!isRoot) {
        t.skip('needs root (CI runs as root, where it must run)');
        return;
      }
      const env: NodeJS.ProcessEnv = { ...process.env, CNPROC_OTEL_METRICS_PORT: '0' };
      for (const key of Object.keys(env))
        if (key.startsWith('OTEL_') || (key.startsWith('CNPROC_OTEL_') && key !== 'CNPROC_OTEL_METRICS_PORT')) delete env[key];
      const args = [
        '--config',
        join(root, 'etc/cnproc-otel/config.yaml'),
        '--exporter',
        'console',
        '--console-format',
        'json',
        '--events',
        'exec',
      ];
      const child = spawn(join(root, 'usr/bin/cnproc-otel'), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      // A failed assertion must not leave the agent running: its pipes would hold this file open.
      t.after(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        err += d;
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const marker = `cnproc-deb-test-${process.pid}-${Date.now()}`;
      type Rec = { eventName: string; attributes: Record<string, unknown> };
      const records = (): Rec[] =>
        out
          .split('\n')
          .filter((l) => l.includes(marker))
          .map((l) => JSON.parse(l) as Rec);
      // `sh -c :` is gone within a millisecond: on a loaded machine the capture thread may read its
      // /proc entry too late (the record then names the field in cnproc.missing). Run markers until
      // a record with the executable arrives.
      const complete = (): Rec | undefined => records().find((r) => r.attributes['process.executable.path'] !== undefined);
      const deadline = Date.now() + 30_000;
      while (!complete()) {
        assert.ok(
          Date.now() < deadline,
          `no complete exec record for the marker within 30 s; records:\n${JSON.stringify(records())}\nstderr:\n${err}`,
        );
        assert.equal(child.exitCode, null, `the agent exited early:\n${err}`);
        spawnSync('/bin/sh', ['-c', `: ${marker}`]);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      for (const r of records()) {
        assert.equal(r.eventName, 'process.exec');
        // Never silently incomplete: a record without its executable says what it is missing.
        if (r.attributes['process.executable.path'] === undefined)
          assert.ok(Array.isArray(r.attributes['cnproc.process.missing']), `unflagged incomplete record: ${JSON.stringify(r)}`);
      }
      assert.match(String(complete()?.attributes['process.executable.path']), /\/(dash|sh|bash)$/);
      // Self-telemetry (probes of the DaemonSet, monitors of the unit), where the agent serves it.
      const listen = /metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(err);
      if (listen) {
        assert.equal((await fetch(`${listen[1]}/healthz`)).status, 200);
        assert.equal((await fetch(`${listen[1]}/readyz`)).status, 200);
      }
      child.kill('SIGTERM');
      assert.equal(await exited, 0, err);
      assert.match(err, /stopped/);
    });

    test('dpkg -i again (upgrade path) keeps a changed conffile', () => {
      const conf = join(root, 'etc/cnproc-otel/config.yaml');
      const changed = `${readFileSync(conf, 'utf8')}\n# local change\n`;
      writeFileSync(conf, changed);
      const r = dpkg('-i', deb);
      assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
      assert.equal(readFileSync(conf, 'utf8'), changed);
      assert.ok(lstatSync(join(root, 'etc/systemd/system/multi-user.target.wants/cnproc-otel.service')).isSymbolicLink());
    });

    test('dpkg -r removes the program and keeps the configuration', () => {
      const r = dpkg('-r', 'cnproc-otel');
      assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
      assert.ok(!existsSync(join(root, 'usr/bin/cnproc-otel')));
      assert.ok(!existsSync(join(root, APP)));
      assert.ok(!existsSync(join(root, 'lib/systemd/system/cnproc-otel.service')));
      assert.ok(existsSync(join(root, 'etc/cnproc-otel/config.yaml')), 'conffiles stay until purge');
      assert.match(ok('dpkg', [`--root=${root}`, '-s', 'cnproc-otel']), /^Status: deinstall ok config-files$/m);
    });

    test('dpkg -P purges configuration, unit state and spool', () => {
      mkdirSync(join(root, 'var/lib/cnproc-otel'), { recursive: true });
      writeFileSync(join(root, 'var/lib/cnproc-otel/queue'), 'x');
      const r = dpkg('-P', 'cnproc-otel');
      assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
      for (const path of ['etc/cnproc-otel', 'etc/default/cnproc-otel', 'var/lib/cnproc-otel']) {
        assert.ok(!existsSync(join(root, path)), `${path} survived the purge`);
      }
      const units = run('find', [join(root, 'etc/systemd'), join(root, 'var/lib/systemd'), '-name', 'cnproc-otel*']).stdout.trim();
      assert.equal(units, '', 'no enablement symlinks, masks or state left');
      assert.notEqual(run('dpkg', [`--root=${root}`, '-s', 'cnproc-otel']).code, 0, 'not installed');
    });
  });
});

describe('maintainer scripts on a running systemd', () => {
  // The branches that act on a live system (start, restart, stop) only run where
  // /run/systemd/system exists: give the scripts one in a private mount namespace, and stand-in
  // commands that record how they are called.
  const tmp = mkdtempSync(join(tmpdir(), 'cnproc-maint-'));
  const stubs = join(tmp, 'bin');
  const log = join(tmp, 'calls.log');
  after(() => rmSync(tmp, { recursive: true, force: true }));

  before(() => {
    mkdirSync(stubs);
    for (const name of ['systemctl', 'deb-systemd-helper', 'deb-systemd-invoke', 'systemd-sysusers']) {
      writeFileSync(join(stubs, name), `#!/bin/sh\necho "${name} $*" >> "${log}"\nexit 0\n`);
      chmodSync(join(stubs, name), 0o755);
    }
  });

  function calls(script: string, ...args: string[]): string[] {
    if (!isRoot) return [];
    writeFileSync(log, '');
    const env = { PATH: `${stubs}:/usr/sbin:/usr/bin:/sbin:/bin` };
    const inner = 'mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system && exec "$@"';
    const r = run(
      'unshare',
      ['--mount', '--propagation', 'private', 'sh', '-c', inner, 'sh', 'sh', join(REPO, 'packaging/deb', script), ...args],
      {
        env,
      },
    );
    assert.equal(r.code, 0, `${script} ${args.join(' ')}: ${r.stderr}`);
    return readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
  }

  test('postinst configure: user, enable, start; restart on upgrade', (t) => {
    if (!isRoot) {
      t.skip('needs root for a private mount namespace (CI runs as root)');
      return;
    }
    assert.deepEqual(calls('postinst', 'configure', ''), [
      'systemd-sysusers cnproc-otel.conf',
      'deb-systemd-helper unmask cnproc-otel.service',
      'deb-systemd-helper --quiet was-enabled cnproc-otel.service',
      'deb-systemd-helper enable cnproc-otel.service',
      'systemctl --system daemon-reload',
      'deb-systemd-invoke start cnproc-otel.service',
    ]);
    assert.equal(calls('postinst', 'configure', '0.0.9-1').at(-1), 'deb-systemd-invoke restart cnproc-otel.service');
  });

  test('prerm: remove stops the agent, upgrade leaves it to postinst', (t) => {
    if (!isRoot) {
      t.skip('needs root for a private mount namespace (CI runs as root)');
      return;
    }
    assert.deepEqual(calls('prerm', 'remove'), ['deb-systemd-invoke stop cnproc-otel.service']);
    assert.deepEqual(calls('prerm', 'upgrade', '0.2.0-1'), []);
  });

  test('postrm remove: reload systemd, mask the gone unit', (t) => {
    if (!isRoot) {
      t.skip('needs root for a private mount namespace (CI runs as root)');
      return;
    }
    assert.deepEqual(calls('postrm', 'remove'), ['systemctl --system daemon-reload', 'deb-systemd-helper mask cnproc-otel.service']);
  });
});
