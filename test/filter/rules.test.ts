import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRules, globToRegExp } from '../../src/filter/rules.js';

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

const bad: Array<[string, unknown, RegExp]> = [
  ['not a list', { action: 'keep' }, /must be a list of rules/],
  ['rule not a mapping', ['keep'], /rule 1: must be a mapping/],
  ['missing action', [{ match: {} }], /rule 1: action must be keep or drop/],
  ['bad action', [{ name: 'x', action: 'allow' }], /rule 1 \(x\): action must be keep or drop/],
  ['unknown rule key', [{ action: 'keep', when: {} }], /unknown key "when"/],
  ['unknown condition', [{ action: 'keep', match: { exe: '/bin/sh' } }], /unknown condition "exe" \(allowed: events, executable/],
  ['bad event type', [{ action: 'keep', match: { events: ['spawn'] } }], /match\.events: "spawn" is not one of/],
  ['empty events', [{ action: 'keep', match: { events: [] } }], /at least one event type/],
  ['bad regex', [{ action: 'keep', match: { argv: '(' } }], /match\.argv: "\(" is not a valid regular expression/],
  ['empty glob', [{ action: 'keep', match: { executable: '' } }], /match\.executable: must be a glob/],
  ['bad user', [{ action: 'keep', match: { user: [true] } }], /match\.user: true is not a name or a numeric id/],
  ['bad container', [{ action: 'keep', match: { container: 'XYZ' } }], /"XYZ" is not a container id/],
  ['bad exit code', [{ action: 'keep', match: { exitCode: 300 } }], /"nonzero" or exit codes from 0 to 255/],
  ['bad thread', [{ action: 'keep', match: { thread: 'yes' } }], /match\.thread: must be true or false/],
];
for (const [name, rules, re] of bad) {
  test(`invalid: ${name}`, () => {
    assert.throws(() => compileRules(rules), re);
  });
}
