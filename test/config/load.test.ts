import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseBytes } from '../../src/config/formats.js';
import { ConfigError, loadConfig, schemaFlags } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'cnproc-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('defaults and precedence', () => {
  test('defaults with no file, env or flags', () => {
    const c = loadConfig({ env: {}, args: [] });
    assert.equal(c.capture.receiveBufferBytes, 64 * 1024 * 1024);
    assert.equal(c.capture.events.length, 9);
    assert.equal(c.console.format, 'auto');
  });

  test('flag > env > file > default', () => {
    const f = file('prec.yaml', 'console:\n  format: pretty\nlog:\n  level: debug\ncapture:\n  exitNonzeroOnly: true\n');
    const fileOnly = loadConfig({ file: f, env: {}, args: [] });
    assert.deepEqual([fileOnly.console.format, fileOnly.log.level, fileOnly.capture.exitNonzeroOnly], ['pretty', 'debug', true]);
    const env = { CNPROC_OTEL_CONSOLE_FORMAT: 'json', CNPROC_OTEL_LOG_LEVEL: 'warn' };
    const withEnv = loadConfig({ file: f, env, args: [] });
    assert.deepEqual([withEnv.console.format, withEnv.log.level], ['json', 'warn']);
    const withFlag = loadConfig({ file: f, env, args: ['--log-level', 'error'] });
    assert.deepEqual([withFlag.console.format, withFlag.log.level], ['json', 'error']);
  });

  test('JSON files work too', () => {
    const f = file('c.json', '{"capture": {"events": ["exec"]}}');
    assert.deepEqual(loadConfig({ file: f, env: {} }).capture.events, ['exec']);
  });

  test('env lists and sizes are parsed strictly', () => {
    const c = loadConfig({
      env: { CNPROC_OTEL_EVENTS: 'exec, exit', CNPROC_OTEL_RECEIVE_BUFFER: '16MiB', CNPROC_OTEL_EXIT_NONZERO_ONLY: 'yes' },
    });
    assert.deepEqual(c.capture.events, ['exec', 'exit']);
    assert.equal(c.capture.receiveBufferBytes, 16 * 1024 * 1024);
    assert.equal(c.capture.exitNonzeroOnly, true);
  });

  test('every schema flag is listed for the CLI', () => {
    assert.deepEqual(schemaFlags().sort(), [
      'console-format',
      'enrich',
      'events',
      'exit-nonzero-only',
      'exporter',
      'hash-executables',
      'log-level',
      'metrics-port',
      'otlp-endpoint',
      'otlp-protocol',
      'receive-buffer',
      'report-file',
      'spool',
      'spool-dir',
      'threads',
      'traces',
    ]);
  });
});

describe('bad values: one message naming key, value and what is allowed', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['unknown event type', 'capture:\n  events: [exec, spawn]\n', /:2: capture\.events: "spawn" is not one of: fork, exec/],
    ['empty event list', 'capture:\n  events: []\n', /capture\.events: must be a non-empty list/],
    ['duplicate event type', 'capture:\n  events: [exec, exec]\n', /"exec" is listed twice/],
    ['size with a bad unit', 'capture:\n  receiveBufferBytes: 64 parsecs\n', /:2: capture\.receiveBufferBytes: must be a size from 65536/],
    ['size too small', 'capture:\n  receiveBufferBytes: 1024\n', /must be a size from 65536 to 1073741824 bytes.*value was 1024/],
    ['negative integer', 'capture:\n  batchMaxDelayMs: -5\n', /capture\.batchMaxDelayMs: must be an integer from 1 to 1000: value was -5/],
    ['fractional integer', 'capture:\n  recvBatch: 2.5\n', /capture\.recvBatch: must be an integer/],
    ['string for integer', 'capture:\n  recvBatch: lots\n', /capture\.recvBatch: must be an integer.*"lots"/],
    ['string for boolean', 'capture:\n  exitNonzeroOnly: maybe\n', /capture\.exitNonzeroOnly: must be true or false/],
    ['bad enum', 'console:\n  format: xml\n', /console\.format: must be one of: auto, pretty, json/],
    ['unknown key (typo)', 'capture:\n  recieveBufferBytes: 1\n', /:2: unknown key 'capture\.recieveBufferBytes'/],
    ['unknown key in a section', 'exporter:\n  url: x\n', /unknown key 'exporter\.url'/],
    [
      'bad redaction pattern',
      'redaction:\n  patterns: ["("]\n',
      /:2: redaction\.patterns: redaction pattern "\(" is not a valid regular expression/,
    ],
    ['bad OTLP endpoint', 'otlp:\n  endpoint: collector:4318\n', /:2: otlp\.endpoint: must be an http/],
    ['bad protocol', 'otlp:\n  protocol: grpc\n', /otlp\.protocol: must be one of: http\/protobuf, http\/json/],
  ];
  for (const [name, text, re] of cases) {
    test(name, () => {
      const msg = configError(() => loadConfig({ file: file(`${name.replace(/\W+/g, '-')}.yaml`, text), env: {} }));
      assert.match(msg, re);
    });
  }

  test('YAML syntax error: file, line and column', () => {
    const f = file('syntax.yaml', 'capture:\n  events: [exec\n  other: 1\n');
    assert.match(
      configError(() => loadConfig({ file: f, env: {} })),
      /syntax\.yaml:\d+:\d+: not valid YAML\/JSON/,
    );
  });

  test('duplicate keys are an error, not last-one-wins', () => {
    const f = file('dup.yaml', 'console:\n  format: json\n  format: pretty\n');
    assert.match(
      configError(() => loadConfig({ file: f, env: {} })),
      /not valid YAML\/JSON.*[Dd]uplicate|unique/,
    );
  });

  test('a top level that is not a mapping', () => {
    assert.match(
      configError(() => loadConfig({ file: file('list.yaml', '- a\n- b\n'), env: {} })),
      /top level must be a mapping/,
    );
  });

  test('bad env value names the key', () => {
    assert.match(
      configError(() => loadConfig({ env: { CNPROC_OTEL_RECEIVE_BUFFER: '64MiBs' } })),
      /capture\.receiveBufferBytes: must be a size/,
    );
  });

  test('several errors are all reported', () => {
    const f = file('many.yaml', 'console:\n  format: xml\nlog:\n  level: loud\n');
    const msg = configError(() => loadConfig({ file: f, env: {} }));
    assert.match(msg, /console\.format/);
    assert.match(msg, /log\.level/);
  });
});

test('standard OTEL_* variables map onto their keys; secrets are masked for printing', async () => {
  const { maskSecrets } = await import('../../src/config/load.js');
  const c = loadConfig({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20tok',
      OTEL_SERVICE_NAME: 'audit',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod',
    },
  });
  assert.equal(c.otlp.endpoint, 'https://collector:4318');
  assert.equal(c.otlp.protocol, 'http/json');
  assert.equal(c.service.name, 'audit');
  assert.equal(c.resource.attributes, 'deployment.environment.name=prod');
  assert.equal(maskSecrets(c).otlp.headers, '<redacted>');
  assert.equal(c.otlp.headers, 'authorization=Bearer%20tok', 'masking copies');
  assert.match(
    configError(() => loadConfig({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://x' } })),
    /otlp\.endpoint: must be an http/,
  );
});

test('parseBytes', () => {
  assert.equal(parseBytes('1048576'), 1048576);
  assert.equal(parseBytes('64MiB'), 64 * 1024 * 1024);
  assert.equal(parseBytes('64 mb'), 64_000_000);
  assert.equal(parseBytes('1.5KiB'), 1536);
  assert.ok(Number.isNaN(parseBytes('64 parsecs')));
  assert.ok(Number.isNaN(parseBytes('-1')));
});

describe('errors inside a filter rule: the entry, its value, its line', () => {
  test('block style: the key inside the rule, not the rules: line, and only its value', () => {
    const f = file(
      'rule-block.yaml',
      [
        'filter:',
        '  rules:',
        '    - name: execs',
        '      action: keep',
        '      match: { events: [exec] }',
        '    - name: failures',
        '      action: keep',
        '      match:',
        '        events: [exit]',
        '        exitCode: 300',
        '',
      ].join('\n'),
    );
    const msg = configError(() => loadConfig({ file: f, env: {} }));
    assert.equal(
      msg,
      `${f}:10: filter.rules[1].match.exitCode: must be "nonzero" or exit codes from 0 to 255: value was 300`,
      'one line: file and line of exitCode, the path inside the rules, the value',
    );
  });

  test('an entry of a list inside a flow-style rule', () => {
    const f = file('rule-flow.yaml', 'filter:\n  rules:\n    - { action: keep }\n    - { action: drop, match: { user: [root, true] } }\n');
    assert.match(
      configError(() => loadConfig({ file: f, env: {} })),
      /rule-flow\.yaml:4: filter\.rules\[1\]\.match\.user\[1\]: is not a name or a numeric id: value was true$/,
    );
  });

  test('a bad action names the action key of that rule', () => {
    const f = file('rule-action.yaml', 'filter:\n  rules:\n    - action: keep\n    - name: x\n      action: allow\n');
    assert.match(
      configError(() => loadConfig({ file: f, env: {} })),
      /rule-action\.yaml:5: filter\.rules\[1\]\.action: action must be keep or drop: value was "allow"$/,
    );
  });

  test('rules that are not a list: one convict message, no rule check on top', () => {
    const msg = configError(() => loadConfig({ file: file('rule-notlist.yaml', 'filter:\n  rules: keep\n'), env: {} }));
    assert.match(msg, /:2: filter\.rules: must be a list of rules/);
    assert.equal(msg.split('\n').length, 1);
  });

  test('a rule error and another key error are both reported', () => {
    const f = file('rule-two.yaml', 'console:\n  format: xml\nfilter:\n  rules:\n    - { action: nope }\n');
    const msg = configError(() => loadConfig({ file: f, env: {} }));
    assert.match(msg, /:2: console\.format: must be one of/);
    assert.match(msg, /:5: filter\.rules\[0\]\.action: action must be keep or drop/);
  });
});

test('bad resource attributes and OTLP headers are config errors at load, with key and line', () => {
  const f = file('attrs.yaml', 'resource:\n  attributes: "team=a,oops"\n');
  assert.match(
    configError(() => loadConfig({ file: f, env: {} })),
    /attrs\.yaml:2: resource\.attributes: resource attributes: "oops" is not key=value/,
  );
  assert.match(
    configError(() => loadConfig({ env: { OTEL_EXPORTER_OTLP_HEADERS: 'a=%zz' } })),
    /otlp\.headers: otlp\.headers: the value of "a" is not valid percent-encoding/,
  );
});

test('every error class the agent treats as a configuration problem is a ConfigError', async () => {
  const { RuleError } = await import('../../src/filter/rules.js');
  const { ExporterConfigError } = await import('../../src/otel/otlp-exporter.js');
  const { Redactor } = await import('../../src/filter/redact.js');
  assert.ok(new RuleError('rule 1', [0], 'x', 1) instanceof ConfigError);
  assert.ok(new ExporterConfigError('x') instanceof ConfigError);
  assert.throws(() => new Redactor({ extraPatterns: ['('] }), ConfigError);
});
