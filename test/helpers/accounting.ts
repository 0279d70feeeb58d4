/**
 * The agent's accounting at stop, from its stop document (--report-file), checked as identities.
 */
import assert from 'node:assert/strict';
import type { StopDocument } from '../../src/agent/stop-document.js';

/** The delivery identity: everything stored or found is accounted for exactly. */
export function assertDeliveryIdentity(doc: StopDocument): Record<string, number> {
  const a = doc.delivery;
  assert.ok(a, 'the stop document has a delivery section (OTLP configured)');
  const lhs = (a.stored ?? 0) + (a.found_at_start ?? 0);
  const rhs = ['delivered', 'rejected', 'partially_rejected', 'spool_dropped', 'corrupt', 'write_failed', 'left'].reduce(
    (n, k) => n + (a[k] ?? 0),
    0,
  );
  assert.equal(lhs, rhs, JSON.stringify(a));
  return a;
}
