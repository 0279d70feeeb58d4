/** Process exit codes (sysexits.h values, so service managers and scripts can tell causes apart). */
import type { CaptureErrorCategory } from '../kernel/errors.js';

export const EXIT = {
  OK: 0,
  /** EX_USAGE: unknown or malformed command-line option. */
  USAGE: 64,
  /** EX_UNAVAILABLE: the kernel or the environment cannot provide process events. */
  UNAVAILABLE: 69,
  /** EX_SOFTWARE: internal error. */
  INTERNAL: 70,
  /** EX_NOPERM: not allowed to subscribe. */
  PERMISSION: 77,
  /** EX_CONFIG: invalid configuration. */
  CONFIG: 78,
} as const;

export function exitCodeFor(category: CaptureErrorCategory): number {
  switch (category) {
    case 'permission':
      return EXIT.PERMISSION;
    case 'unavailable':
      return EXIT.UNAVAILABLE;
    case 'internal':
      return EXIT.INTERNAL;
  }
}
