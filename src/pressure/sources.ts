/**
 * How full each bounded resource is, as a pressure (0..1) for the ladder: the delivery store and
 * memory. Queues (handoff, export queue) are plain fill fractions and need no curve.
 */

/**
 * The delivery store's share of the pressure, from its fill (bytes over its cap). The first half is
 * free buffer (a collector outage of normal traffic must not degrade records); from there it climbs
 * linearly to 1 at the cap: shed at 62.5 %, aggregate at 75 %, drop low-priority types at 90 %, so
 * a storm during an outage is thinned before the cap would drop the oldest batches.
 */
export function storePressure(fill: number): number {
  if (fill <= 0.5) return 0;
  return Math.min(1, (fill - 0.5) / 0.5);
}

/**
 * Memory the agent holds and cannot simply reuse: resident size less the part of V8's heap that is
 * committed but free. After a storm V8 keeps its grown heap for minutes (it shrinks it only at a
 * later memory-reducing collection): measured 152 MB resident with 52 MB of that free heap, for
 * 100 s. Counting it held the ladder at "aggregate" long after every queue was empty; V8 fills that
 * space before it asks the kernel for more, so it is headroom, not pressure.
 */
export function memoryInUse(m: Pick<NodeJS.MemoryUsage, 'rss' | 'heapTotal' | 'heapUsed'>): number {
  return m.rss - Math.max(0, m.heapTotal - m.heapUsed);
}

/** Memory in use over the ceiling from which memory counts as pressure (and heap-growth.ts holds V8's growth). */
export const MEMORY_COUNTS_FROM = 0.5;

/**
 * Memory's share of the pressure, from memory in use over the ceiling. The first half of the
 * ceiling is the agent's own baseline (an idle agent is ~100 MB resident: Node, the capture
 * thread's isolate, native buffers) and room for a busy one; from there it climbs to just under
 * 0.8 at 90 % (shed at 63 %, aggregate at 75 %; aggregation is what frees memory in a storm) and
 * only at 95 % forces "drop": what is counted still includes garbage not yet collected, so memory
 * alone must not drop events much earlier.
 */
export function memoryPressure(fraction: number): number {
  if (fraction >= 0.95) return 1;
  if (fraction <= MEMORY_COUNTS_FROM) return 0;
  return Math.min(0.79, ((fraction - MEMORY_COUNTS_FROM) / 0.4) * 0.79);
}
