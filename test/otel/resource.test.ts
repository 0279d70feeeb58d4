import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildResource, parseKeyValueList } from '../../src/otel/resource.js';

test('key=value lists: percent-decoding, blanks, errors', () => {
  assert.deepEqual(parseKeyValueList('a=1, b=x%20y,,', 'x'), { a: '1', b: 'x y' });
  assert.throws(() => parseKeyValueList('novalue', 'resource attributes'), /resource attributes: "novalue" is not key=value/);
  assert.throws(() => parseKeyValueList('a=%zz', 'x'), /not valid percent-encoding/);
});

test('service.name precedence and host attributes', () => {
  const base = { serviceVersion: '1.2.3', bootId: 'boot-1', env: { K8S_NODE_NAME: 'node-a' } };
  const r1 = buildResource({ ...base, serviceName: '', extraAttributes: '' }).attributes;
  assert.equal(r1['service.name'], 'cnproc-otel');
  assert.equal(r1['service.version'], '1.2.3');
  assert.equal(r1['os.type'], 'linux');
  assert.equal(r1['cnproc.boot.id'], 'boot-1');
  assert.equal(r1['k8s.node.name'], 'node-a');
  assert.ok(typeof r1['host.name'] === 'string' && typeof r1['host.arch'] === 'string');
  assert.equal(r1['service.instance.id'], r1['host.id'] ?? r1['host.name']);
  const r2 = buildResource({
    ...base,
    serviceName: '',
    extraAttributes: 'service.name=from-attrs,deployment.environment.name=prod',
  }).attributes;
  assert.equal(r2['service.name'], 'from-attrs');
  assert.equal(r2['deployment.environment.name'], 'prod');
  const r3 = buildResource({ ...base, serviceName: 'from-env', extraAttributes: 'service.name=from-attrs' }).attributes;
  assert.equal(r3['service.name'], 'from-env');
});
