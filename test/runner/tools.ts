/**
 * The programs the system tests run, and the Debian package of each: `npm test` installs what is
 * missing when it runs as root, so a fresh machine needs nothing but `npm ci && npm test`. This is
 * the one list of them; .ci/run installs nothing of its own.
 */
import { spawnSync } from 'node:child_process';

/** Command on PATH → Debian package that provides it, and which tests need it. */
export const TEST_TOOLS: ReadonlyArray<{ command: string; deb: string; for: string }> = [
  { command: 'strace', deb: 'strace', for: 'ptrace events, IGNORE on exit (kernel, cli)' },
  { command: 'setpriv', deb: 'util-linux', for: 'uid/gid change events' },
  { command: 'unshare', deb: 'util-linux', for: 'namespaces, the packaged agent' },
  { command: 'taskset', deb: 'util-linux', for: 'per-CPU downtime report' },
  { command: 'stress-ng', deb: 'stress-ng', for: 'fork storms (pressure)' },
  { command: 'systemd-analyze', deb: 'systemd', for: 'the unit verifies and stays sandboxed (packaging)' },
  { command: 'systemd-sysusers', deb: 'systemd', for: 'the service user (packaging)' },
  { command: 'dpkg-deb', deb: 'dpkg', for: 'the .deb (packaging)' },
  { command: 'deb-systemd-helper', deb: 'init-system-helpers', for: 'the .deb maintainer scripts (packaging)' },
  { command: 'lintian', deb: 'lintian', for: 'the .deb is clean (packaging)' },
  { command: 'help2man', deb: 'help2man', for: "the .deb's man page (packaging)" },
  { command: 'strip', deb: 'binutils', for: "the .deb's stripped runtime (packaging)" },
  {
    command: 'readelf',
    deb: 'binutils',
    for: "the .deb's stripped runtime (packaging); build ids of real binaries (kernel, process, otel)",
  },
  { command: 'sha256sum', deb: 'coreutils', for: 'executable hashes against real files (process/executable-file, otel/e2e)' },
  { command: 'promtool', deb: 'prometheus', for: 'the metrics endpoint passes promtool check metrics (telemetry)' },
  { command: 'setcap', deb: 'libcap2-bin', for: 'an executable with file capabilities (process/security)' },
  { command: 'cc', deb: 'gcc', for: 'C helpers built from the repository (kernel)' },
  { command: 'podman', deb: 'podman', for: 'a real container through the agent (otel/podman)' },
  { command: 'runc', deb: 'runc', for: "podman's and containerd's runtime (otel/podman, process/runtimes)" },
  { command: 'busybox', deb: 'busybox-static', for: 'the rootfs of the test containers' },
  { command: 'dockerd', deb: 'docker.io', for: 'a real docker container (process/runtimes)' },
  { command: 'containerd', deb: 'containerd', for: 'real containerd and ctr containers (process/runtimes)' },
];

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export function missingTools(): Array<(typeof TEST_TOOLS)[number]> {
  return TEST_TOOLS.filter((t) => !has(t.command));
}

/**
 * As root, installs the Debian packages of missing tools (apt-get update first, once). Returns one
 * line for the log, or null when nothing was missing. Never throws: a tool that stays missing fails
 * the tests that need it with their own message.
 */
export function installMissingTools(isRoot: boolean): string | null {
  const missing = missingTools();
  if (missing.length === 0) return null;
  const debs = [...new Set(missing.map((t) => t.deb))];
  const names = missing.map((t) => t.command).join(', ');
  if (!isRoot) {
    return `test tools missing: ${names} (Debian: ${debs.join(' ')}); not root, so not installed: the tests that need them need root and skip`;
  }
  if (!has('apt-get'))
    return `test tools missing: ${names}, and no apt-get to install ${debs.join(' ')}: the tests that need them will fail`;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { env, encoding: 'utf8', timeout: 600_000 });
  const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...debs], {
    env,
    encoding: 'utf8',
    timeout: 1_200_000,
  });
  const still = missingTools();
  if (install.status === 0 && still.length === 0) return `installed test tools: ${names} (Debian: ${debs.join(' ')})`;
  const why = (install.stderr || update.stderr || install.error?.message || '').trim().split('\n').slice(-3).join(' | ');
  return `could not install ${debs.join(' ')} (apt-get exit ${install.status}: ${why}); still missing: ${still.map((t) => t.command).join(', ')}`;
}
