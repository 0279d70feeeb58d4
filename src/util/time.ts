/**
 * HrTime ([seconds, nanoseconds]) as text, without losing the nanoseconds.
 */

/** Wall-clock time as OpenTelemetry's HrTime: [seconds since the epoch, nanoseconds]. */
export type HrTime = [number, number];

/** ISO-8601 UTC with nanoseconds, e.g. 2026-11-26T01:23:45.123456789Z. */
export function isoNanos(t: HrTime): string {
  const iso = new Date(t[0] * 1000).toISOString(); // ...T01:23:45.000Z
  return `${iso.slice(0, 19)}.${String(t[1]).padStart(9, '0')}Z`;
}

/** Unix nanoseconds as a decimal string (exact; a JS number cannot hold it). */
export function unixNanos(t: HrTime): string {
  return `${t[0]}${String(t[1]).padStart(9, '0')}`;
}
