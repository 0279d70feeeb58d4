/**
 * Trace and span ids derived from the stable process id (cnproc.process.entity_id: a hash of boot
 * id, pid and start time), so that the same process gets the same ids whenever they are computed:
 * after its open span was evicted, after an agent restart, and in the log records emitted before
 * the span itself is exported. Random ids only where no entity id is known.
 */
import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../util/sha256.js';

const ZERO_SPAN = '0000000000000000';
const ZERO_TRACE = '00000000000000000000000000000000';

function random(bytes: number, zero: string): string {
  for (;;) {
    const id = randomBytes(bytes).toString('hex');
    if (id !== zero) return id; // all-zero ids are invalid in W3C trace context
  }
}

/** A random 8-byte span id, lower-case hex. */
export function randomSpanId(): string {
  return random(8, ZERO_SPAN);
}

/** A random 16-byte trace id, lower-case hex. */
export function randomTraceId(): string {
  return random(16, ZERO_TRACE);
}

/**
 * The span id of part `segment` of a process's span (0: the span from its start; n: the n-th
 * continuation when long-lived processes are exported in parts). Random when the entity id is unknown.
 */
export function processSpanId(entityId: string | null, segment: number): string {
  if (entityId === null) return randomSpanId();
  const id = segment === 0 ? entityId.slice(0, 16) : sha256Hex(`${entityId}/${segment}`).slice(0, 16);
  return id === ZERO_SPAN ? randomSpanId() : id;
}

/** The trace id of a trace that begins at this process: its entity id itself (32 hex digits). */
export function processTraceId(entityId: string | null): string {
  return entityId === null || entityId === ZERO_TRACE || entityId.length !== 32 ? randomTraceId() : entityId;
}
