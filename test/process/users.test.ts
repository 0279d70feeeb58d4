import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserDb } from '../../src/process/users.js';

test('names from passwd and group; first entry wins; refreshed when the file changes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnproc-users-'));
  const passwd = join(dir, 'passwd');
  const group = join(dir, 'group');
  writeFileSync(
    passwd,
    'root:x:0:0:root:/root:/bin/bash\n# comment\nalice:x:1000:1000::/home/alice:/bin/sh\nalias:x:1000:1000::/:/bin/sh\nbroken-line\n',
  );
  writeFileSync(group, 'root:x:0:\nusers:x:100:alice\n');
  let now = 0;
  const db = new UserDb({ passwd, group, checkMs: 1000, now: () => now });
  assert.equal(db.userName(0), 'root');
  assert.equal(db.userName(1000), 'alice');
  assert.equal(db.userName(4242), undefined);
  assert.equal(db.groupName(100), 'users');
  writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\nbob:x:1001:1001::/home/bob:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n');
  assert.equal(db.userName(1001), undefined, 'not re-checked before checkMs');
  now = 1000;
  assert.equal(db.userName(1001), 'bob');
});

test('missing files give no names, never an error', () => {
  const db = new UserDb({ passwd: '/nonexistent/passwd', group: '/nonexistent/group' });
  assert.equal(db.userName(0), undefined);
  assert.equal(db.groupName(0), undefined);
});
