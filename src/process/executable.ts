/**
 * What the executable link says about the program file, without a syscall: the kernel writes
 * "/memfd:<name> (deleted)" for a program run from a memfd (memfd_create + fexecve: never on any
 * file system) and appends " (deleted)" to the path of a file unlinked since it was opened.
 * Either way nobody can check the program on disk any more: "fileless".
 */

export type ExecutableOrigin = 'memfd' | 'deleted';

const MEMFD = '/memfd:';
const DELETED = ' (deleted)';

/** memfd, deleted, or null for a file that (as far as the link says) is still there. */
export function executableOrigin(exe: string | null): ExecutableOrigin | null {
  if (exe === null) return null;
  if (exe.startsWith(MEMFD)) return 'memfd';
  // A file whose real name ends in " (deleted)" looks the same: the kernel's text cannot tell.
  return exe.endsWith(DELETED) ? 'deleted' : null;
}
