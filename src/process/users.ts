/**
 * User and group names from /etc/passwd and /etc/group: parsed once, cached, and parsed again when
 * a file's mtime or size changes (checked at most every `checkMs`). No subprocesses and no NSS:
 * names from LDAP/SSSD are not resolved (the id is always reported).
 */
import { readFileSync, statSync } from 'node:fs';

function parseNames(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    const id = Number(f[2]);
    // The first entry wins, as getpwuid does.
    if (f[0] && Number.isInteger(id) && !m.has(id)) m.set(id, f[0]);
  }
  return m;
}

class NameFile {
  private names = new Map<number, string>();
  private signature = '';
  private checkedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly path: string,
    private readonly checkMs: number,
    private readonly now: () => number,
  ) {}

  lookup(id: number): string | undefined {
    const t = this.now();
    if (t - this.checkedAt >= this.checkMs) {
      this.checkedAt = t;
      this.refresh();
    }
    return this.names.get(id);
  }

  private refresh(): void {
    let sig: string;
    try {
      const st = statSync(this.path);
      sig = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      sig = 'missing';
    }
    if (sig === this.signature) return;
    this.signature = sig;
    try {
      this.names = parseNames(readFileSync(this.path, 'utf8'));
    } catch {
      this.names = new Map();
    }
  }
}

export class UserDb {
  private readonly users: NameFile;
  private readonly groups: NameFile;

  constructor(opts: { passwd?: string; group?: string; checkMs?: number; now?: () => number } = {}) {
    const now = opts.now ?? (() => performance.now());
    this.users = new NameFile(opts.passwd ?? '/etc/passwd', opts.checkMs ?? 5000, now);
    this.groups = new NameFile(opts.group ?? '/etc/group', opts.checkMs ?? 5000, now);
  }

  userName(uid: number): string | undefined {
    return this.users.lookup(uid);
  }

  groupName(gid: number): string | undefined {
    return this.groups.lookup(gid);
  }
}
