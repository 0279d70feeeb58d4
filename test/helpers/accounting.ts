/**
 * The agent's parseable accounting lines at stop, checked as identities.
 */
import assert from 'node:assert/strict';

/** The delivery identity from the stop line: everything stored or found is accounted for exactly. */
export function assertDeliveryIdentity(stderr: string): Record<string, number> {
  const m = /delivery accounting: (.*)$/m.exec(stderr);
  assert.ok(m, 'delivery accounting line');
  const a = Object.fromEntries(
    (m[1] as string)
      .split(' ')
      .map((kv) => kv.split('='))
      .map(([k, v]) => [k, Number(v)]),
  ) as Record<string, number>;
  const lhs = (a.stored ?? 0) + (a.found_at_start ?? 0);
  const rhs = ['delivered', 'rejected', 'partially_rejected', 'spool_dropped', 'corrupt', 'write_failed', 'left'].reduce(
    (n, k) => n + (a[k] ?? 0),
    0,
  );
  assert.equal(lhs, rhs, m[0]);
  return a;
}
