/**
 * The OTLP/HTTP retry rules: which answers are worth sending again, how long to wait, and how to
 * read Retry-After. Kept apart from the sender so they can be tested without a network.
 *
 * OTLP spec (exporter, "Retryable Response Codes"): 429, 502, 503 and 504 are retryable and may carry
 * Retry-After; every other 4xx/5xx is not (the batch is rejected); network errors are retryable.
 */

/** What to do with a batch after one attempt. */
export type Verdict = 'delivered' | 'retry' | 'reject';

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);

/** The verdict for an HTTP status code. */
export function verdictForStatus(status: number): Verdict {
  if (status >= 200 && status < 300) return 'delivered';
  return RETRYABLE_STATUS.has(status) ? 'retry' : 'reject';
}

/**
 * Milliseconds to wait from a Retry-After header (delta-seconds or an HTTP-date), or null when the
 * header is absent or unreadable (then the backoff decides). A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | null {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return null;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP-date names its weekday and month (IMF-fixdate, RFC 850, asctime); Date.parse alone
  // would take "-3" for a year.
  if (!/^[A-Za-z]{3}/.test(v)) return null;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return null;
  return Math.max(0, t - nowMs);
}

export interface BackoffOptions {
  /** Wait before the first retry (ms). */
  initialMs: number;
  /** Longest wait between two attempts, Retry-After included (ms). */
  maxMs: number;
}

/**
 * Exponential backoff with full jitter (AWS architecture blog's "full jitter"): a uniform wait in
 * [base/2, base], base = initial · 2^(attempt-1) capped at max. Half the base at least, so a fleet
 * of agents does not hammer a collector that just came back, yet never all at the same instant.
 * `random` is injectable for tests.
 */
export function backoffMs(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(base / 2 + (random() * base) / 2);
}

/** The wait before the next attempt: Retry-After when the server gave one (capped), else the backoff. */
export function nextDelayMs(attempt: number, retryAfterMs: number | null, opts: BackoffOptions, random?: () => number): number {
  if (retryAfterMs !== null) return Math.min(opts.maxMs, retryAfterMs);
  return backoffMs(attempt, opts, random);
}
