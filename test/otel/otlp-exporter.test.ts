import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { schemaDefaults } from '../../src/config/defaults.js';
import { createOtlpExporter, logsUrl, otlpHeaders, parseHeadersFile } from '../../src/otel/otlp-exporter.js';

const otlp = schemaDefaults().otlp;
const dir = mkdtempSync(join(tmpdir(), 'cnproc-otlp-'));

test('logs URL: logsEndpoint as is, else endpoint + /v1/logs, else none', () => {
  assert.equal(logsUrl({ ...otlp, endpoint: 'http://c:4318/' }), 'http://c:4318/v1/logs');
  assert.equal(logsUrl({ ...otlp, endpoint: 'http://c:4318', logsEndpoint: 'http://l/custom' }), 'http://l/custom');
  assert.equal(logsUrl(otlp), null);
});

test('headers from the list and from a file (file wins), file errors name the line', () => {
  const f = join(dir, 'headers');
  writeFileSync(f, '# token\nAuthorization: Bearer s3cret\n\nX-Scope-OrgID=tenant-1\n');
  assert.deepEqual(otlpHeaders({ ...otlp, headers: 'x-a=1,Authorization=old', headersFile: f }), {
    'x-a': '1',
    Authorization: 'Bearer s3cret',
    'X-Scope-OrgID': 'tenant-1',
  });
  assert.throws(() => parseHeadersFile('ok: 1\nnot a header\n', 'h.txt'), /h\.txt:2: not a header line/);
  assert.throws(() => otlpHeaders({ ...otlp, headersFile: join(dir, 'missing') }), /cannot read otlp.headersFile .*ENOENT/);
});

test('exporter configuration errors are specific', () => {
  assert.throws(() => createOtlpExporter(otlp), /needs otlp.endpoint/);
  assert.throws(() => createOtlpExporter({ ...otlp, endpoint: 'https://c:4318', clientKey: '/k' }), /mTLS needs both/);
  assert.throws(
    () => createOtlpExporter({ ...otlp, endpoint: 'https://c:4318', certificate: join(dir, 'nope.pem') }),
    /cannot read otlp.certificate .*ENOENT/,
  );
  assert.ok(createOtlpExporter({ ...otlp, endpoint: 'http://127.0.0.1:4318', protocol: 'http/json' }));
});
