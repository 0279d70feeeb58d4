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

/**
 * Whether the program file is writable by the user running it, from its owner, group and mode
 * (Falco's proc.is_exe_writable): a program its own user can rewrite is a place to persist. The
 * owner's bits for the effective uid, the group's for the effective gid, the others' for anyone.
 * A root process is never flagged: root writes every file, so the flag would be on every root
 * process and say nothing. Supplementary groups are not read. Null when the file or the ids are unknown.
 */
export function writableByUser(
  file: { mode: number; uid: number; gid: number } | null,
  euid: number | null,
  egid: number | null,
): boolean | null {
  if (file === null || euid === null || egid === null) return null;
  if (euid === 0) return false;
  const m = file.mode;
  if (file.uid === euid) return (m & 0o200) !== 0;
  if (file.gid === egid) return (m & 0o020) !== 0;
  return (m & 0o002) !== 0;
}
