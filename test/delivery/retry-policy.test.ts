import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffMs, nextDelayMs, parseRetryAfter, verdictForStatus } from '../../src/delivery/retry-policy.js';

test('only 429, 502, 503 and 504 are retried; 2xx delivered; every other code rejected', () => {
  for (const s of [200, 201, 204]) assert.equal(verdictForStatus(s), 'delivered');
  for (const s of [429, 502, 503, 504]) assert.equal(verdictForStatus(s), 'retry');
  for (const s of [301, 400, 401, 403, 404, 408, 413, 415, 500, 501, 505]) assert.equal(verdictForStatus(s), 'reject', String(s));
});

test('Retry-After: seconds, HTTP-date, past date, garbage', () => {
  const now = Date.parse('2026-11-26T10:00:00Z');
  assert.equal(parseRetryAfter('30', now), 30_000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Thu, 26 Nov 2026 10:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('Thu, 26 Nov 2026 09:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter(['7', '9'], now), 7000);
  assert.equal(parseRetryAfter('soon', now), null);
  assert.equal(parseRetryAfter('-3', now), null);
  assert.equal(parseRetryAfter(undefined, now), null);
});

test('backoff doubles from initialMs up to maxMs, with jitter in [base/2, base]', () => {
  const opts = { initialMs: 1000, maxMs: 60_000 };
  assert.equal(
    backoffMs(1, opts, () => 0),
    500,
  );
  assert.equal(
    backoffMs(1, opts, () => 1),
    1000,
  );
  assert.equal(
    backoffMs(2, opts, () => 1),
    2000,
  );
  assert.equal(
    backoffMs(4, opts, () => 1),
    8000,
  );
  assert.equal(
    backoffMs(20, opts, () => 1),
    60_000,
  );
  assert.equal(
    backoffMs(1000, opts, () => 0),
    30_000,
  );
  for (let i = 0; i < 200; i++) {
    const v = backoffMs(3, opts);
    assert.ok(v >= 2000 && v <= 4000, String(v));
  }
});

test('a Retry-After wins over the backoff, capped at maxMs', () => {
  const opts = { initialMs: 1000, maxMs: 60_000 };
  assert.equal(
    nextDelayMs(5, 2000, opts, () => 1),
    2000,
  );
  assert.equal(
    nextDelayMs(1, 3_600_000, opts, () => 1),
    60_000,
  );
  assert.equal(
    nextDelayMs(1, null, opts, () => 1),
    1000,
  );
});
