import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { compileRules, globToRegExp, RuleError } from '../../src/filter/rules.js';

test('globs: * spans directories, ? one character, classes, everything else literal', () => {
  assert.ok(globToRegExp('/usr/bin/*').test('/usr/bin/gcc'));
  assert.ok(globToRegExp('*/node').test('/home/u/.nvm/versions/node/v20/bin/node'));
  assert.ok(globToRegExp('/usr/bin/cc?').test('/usr/bin/cc1'));
  assert.ok(!globToRegExp('/usr/bin/cc?').test('/usr/bin/cc'));
  assert.ok(globToRegExp('/bin/[a-c]sh').test('/bin/bsh'));
  assert.ok(globToRegExp('/bin/[!a-c]sh').test('/bin/zsh'));
  assert.ok(!globToRegExp('/usr/bin/python3.11').test('/usr/bin/python3x11'), 'the dot is literal');
  assert.ok(!globToRegExp('/usr/bin/make').test('/usr/bin/make2'), 'anchored');
});

test('a valid rule set compiles', () => {
  const rules = compileRules([
    { name: 'a', action: 'drop', match: { events: ['fork'], thread: true } },
    { action: 'keep', match: { executable: ['/usr/bin/*'], user: ['root', 1000, '1001'], exitCode: 'nonzero' } },
    { action: 'keep' },
  ]);
  const [a, b, c] = rules;
  assert.ok(a && b && c && rules.length === 3);
  assert.deepEqual([...a.events], ['fork']);
  assert.equal(b.name, 'rule 2');
  assert.equal(c.conditions.length, 0);
  assert.equal(c.events.size, 9);
});

const bad: Array<[string, unknown, RegExp, Array<string | number>]> = [
  ['not a list', { action: 'keep' }, /must be a list of rules/, []],
  ['rule not a mapping', ['keep'], /rule 1: must be a mapping.*: value was "keep"/, [0]],
  ['missing action', [{ match: {} }], /rule 1: action: action must be keep or drop$/, [0, 'action']],
  ['bad action', [{ name: 'x', action: 'allow' }], /rule 1 \(x\): action: action must be keep or drop: value was "allow"/, [0, 'action']],
  ['unknown rule key', [{ action: 'keep', when: {} }], /unknown key "when"/, [0, 'when']],
  [
    'unknown condition',
    [{ action: 'keep', match: { exe: '/bin/sh' } }],
    /unknown condition "exe" \(allowed: events, executable/,
    [0, 'match', 'exe'],
  ],
  [
    'bad event type',
    [{ action: 'keep' }, { action: 'keep', match: { events: ['exec', 'spawn'] } }],
    /rule 2: match\.events\[1\]: must be one of: fork, .*: value was "spawn"/,
    [1, 'match', 'events', 1],
  ],
  ['empty events', [{ action: 'keep', match: { events: [] } }], /at least one event type/, [0, 'match', 'events']],
  [
    'bad regex',
    [{ action: 'keep', match: { argv: '(' } }],
    /match\.argv: not a valid regular expression.*: value was "\("/,
    [0, 'match', 'argv'],
  ],
  ['empty glob', [{ action: 'keep', match: { executable: '' } }], /match\.executable: must be a glob/, [0, 'match', 'executable']],
  [
    'bad user',
    [{ action: 'keep', match: { user: ['root', true] } }],
    /match\.user\[1\]: is not a name or a numeric id: value was true/,
    [0, 'match', 'user', 1],
  ],
  ['bad container', [{ action: 'keep', match: { container: 'XYZ' } }], /is not a container id.*value was "XYZ"/, [0, 'match', 'container']],
  [
    'bad exit code',
    [{ action: 'keep', match: { exitCode: 300 } }],
    /"nonzero" or exit codes from 0 to 255: value was 300/,
    [0, 'match', 'exitCode'],
  ],
  ['bad thread', [{ action: 'keep', match: { thread: 'yes' } }], /match\.thread: must be true or false/, [0, 'match', 'thread']],
  ['bad escalated', [{ action: 'keep', match: { escalated: 1 } }], /match\.escalated: must be true or false/, [0, 'match', 'escalated']],
  [
    'bad escalation',
    [{ action: 'keep', match: { escalation: ['setuid', 'sudo'] } }],
    /match\.escalation\[1\]: must be one of: setuid, setgid, file_capabilities, ptrace, uid_change: value was "sudo"/,
    [0, 'match', 'escalation', 1],
  ],
  [
    'bad capability',
    [{ action: 'keep', match: { capability: 'cap_fly' } }],
    /match\.capability: is not a capability name.*value was "cap_fly"/,
    [0, 'match', 'capability'],
  ],
  ['no capability', [{ action: 'keep', match: { capability: [] } }], /must name at least one capability/, [0, 'match', 'capability']],
  ['bad tmpfs', [{ action: 'keep', match: { tmpfs: 'yes' } }], /match\.tmpfs: must be true or false/, [0, 'match', 'tmpfs']],
  [
    'bad upperLayer',
    [{ action: 'keep', match: { upperLayer: 0 } }],
    /match\.upperLayer: must be true or false/,
    [0, 'match', 'upperLayer'],
  ],
  [
    'bad nonHostNamespace',
    [{ action: 'keep', match: { nonHostNamespace: ['net', 'network'] } }],
    /match\.nonHostNamespace\[1\]: must be one of: pid, mnt, net, user, uts, ipc, cgroup, time: value was "network"/,
    [0, 'match', 'nonHostNamespace', 1],
  ],
  [
    'bad sha256',
    [{ action: 'drop', match: { sha256: ['ab'.repeat(32), 'md5:abc'] } }],
    /match\.sha256\[1\]: is not a SHA-256 digest \(64 hex digits\): value was "md5:abc"/,
    [0, 'match', 'sha256', 1],
  ],
  ['odd build id', [{ action: 'keep', match: { buildId: 'abc' } }], /match\.buildId: is not a build id/, [0, 'match', 'buildId']],
  ['no build id', [{ action: 'keep', match: { buildId: [] } }], /must list at least one hex value/, [0, 'match', 'buildId']],
];
for (const [name, rules, re, at] of bad) {
  test(`invalid: ${name}`, () => {
    assert.throws(
      () => compileRules(rules),
      (err: unknown) => {
        assert.ok(err instanceof RuleError && err instanceof ConfigError, 'a RuleError is a ConfigError');
        assert.match(err.message, re);
        assert.deepEqual(err.detail?.at, at, 'the path of the offending entry inside filter.rules');
        return true;
      },
    );
  });
}
