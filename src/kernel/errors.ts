/**
 * Capture failures with a category the CLI maps to an exit code, and a one-line message that says
 * what to do.
 */

/** permission: not allowed (exit 77); unavailable: the kernel or environment cannot provide events (69); internal: a bug or an unexpected errno (70). */
export type CaptureErrorCategory = 'permission' | 'unavailable' | 'internal';

export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  constructor(
    message: string,
    readonly category: CaptureErrorCategory,
    /** errno name when the failure came from a syscall (e.g. 'EPERM'). */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** errno numbers the capture path reacts to (Linux generic values, same on x86_64 and arm64). */
export const ERRNO = {
  EPERM: 1,
  EINTR: 4,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EINVAL: 22,
  ENOBUFS: 105,
  EPROTONOSUPPORT: 93,
  EAFNOSUPPORT: 97,
  ECONNREFUSED: 111,
} as const;

export function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(ERRNO)) if (value === errno) return name;
  return `errno ${errno}`;
}
