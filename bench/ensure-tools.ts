/**
 * Installs the Debian packages a benchmark needs when they are missing (root only).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * `commands` maps what must be present to the Debian package that provides it: a command name
 * (looked up on PATH) or an absolute file path (e.g. a header: gcc only recommends libc6-dev,
 * and we install without recommends).
 */
export function ensureDebianPackages(commands: Record<string, string>): void {
  const present = (what: string): boolean =>
    what.startsWith('/') ? existsSync(what) : spawnSync('sh', ['-c', `command -v ${what}`]).status === 0;
  const missing = Object.entries(commands).filter(([what]) => !present(what));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing ${missing.map(([c]) => c).join(', ')}; run the benchmark as root to install them`);
  const pkgs = [...new Set(missing.map(([, p]) => p))];
  process.stderr.write(`installing ${pkgs.join(' ')} ...\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
  if (r.status !== 0) throw new Error(`apt-get install ${pkgs.join(' ')} failed`);
}
