/**
 * Linux capabilities: the one table of their names, and the parsing of the CapEff/CapPrm lines of
 * /proc/<pid>/status, which the capture thread already reads for the ids (so these cost no syscall).
 *
 * A set is kept as a plain number: the kernel defines 41 capabilities (0..40, include/uapi/linux/
 * capability.h as of 6.x), and a double holds every bit below 2^53 exactly, so masks stay cheap to
 * compare on the hot path (no bigint). A set with bits at 52 or above (a kernel decades ahead) is
 * parsed from its low 52 bits, and names the unknown ones it can see as "cap_<n>".
 */

/** Capability names by number (capability.h, lower case as getpcaps and Tetragon print them). */
export const CAPABILITY_NAMES: readonly string[] = [
  'cap_chown',
  'cap_dac_override',
  'cap_dac_read_search',
  'cap_fowner',
  'cap_fsetid',
  'cap_kill',
  'cap_setgid',
  'cap_setuid',
  'cap_setpcap',
  'cap_linux_immutable',
  'cap_net_bind_service',
  'cap_net_broadcast',
  'cap_net_admin',
  'cap_net_raw',
  'cap_ipc_lock',
  'cap_ipc_owner',
  'cap_sys_module',
  'cap_sys_rawio',
  'cap_sys_chroot',
  'cap_sys_ptrace',
  'cap_sys_pacct',
  'cap_sys_admin',
  'cap_sys_boot',
  'cap_sys_nice',
  'cap_sys_resource',
  'cap_sys_time',
  'cap_sys_tty_config',
  'cap_mknod',
  'cap_lease',
  'cap_audit_write',
  'cap_audit_control',
  'cap_setfcap',
  'cap_mac_override',
  'cap_mac_admin',
  'cap_syslog',
  'cap_wake_alarm',
  'cap_block_suspend',
  'cap_audit_read',
  'cap_perfmon',
  'cap_bpf',
  'cap_checkpoint_restore',
];

/** Every capability this table names: a full effective set (root in its user namespace, or a privileged container). */
export const FULL_CAPABILITY_SET = 2 ** CAPABILITY_NAMES.length - 1;

const BIT_LIMIT = 52;

/** The number of a capability name ("cap_sys_admin" or "CAP_SYS_ADMIN", "sys_admin"), or -1. */
export function capabilityNumber(name: string): number {
  let n = name.toLowerCase();
  if (!n.startsWith('cap_')) n = `cap_${n}`;
  const i = CAPABILITY_NAMES.indexOf(n);
  if (i >= 0) return i;
  const m = /^cap_(\d+)$/.exec(n);
  return m && Number(m[1]) < BIT_LIMIT ? Number(m[1]) : -1;
}

/** Whether set `mask` holds capability number `cap`. */
export function hasCapability(mask: number, cap: number): boolean {
  // Two 26/27-bit halves: bitwise operators in JS are 32-bit.
  return cap < 32 ? ((mask % 2 ** 32) >>> cap) % 2 === 1 : (Math.floor(mask / 2 ** 32) >>> (cap - 32)) % 2 === 1;
}

/** The names of a set, by number; unnamed bits as "cap_<n>". */
export function capabilityNames(mask: number): string[] {
  const out: string[] = [];
  if (mask === 0) return out;
  let lo = mask % 2 ** 32;
  let hi = Math.floor(mask / 2 ** 32);
  for (let i = 0; lo !== 0; i++, lo >>>= 1) if (lo & 1) out.push(CAPABILITY_NAMES[i] ?? `cap_${i}`);
  for (let i = 32; hi !== 0; i++, hi >>>= 1) if (hi & 1) out.push(CAPABILITY_NAMES[i] ?? `cap_${i}`);
  return out;
}

/** Bits of `after` that `before` lacks (as a mask). */
export function gainedCapabilities(before: number, after: number): number {
  const lo = ((after % 2 ** 32) & ~(before % 2 ** 32)) >>> 0;
  const hi = (Math.floor(after / 2 ** 32) & ~Math.floor(before / 2 ** 32)) >>> 0;
  return hi * 2 ** 32 + lo;
}

/**
 * Privileged in its user namespace: every capability effective, or effective uid 0 with any
 * effective capability (root that dropped some, e.g. a default Docker container, still counts;
 * root with an empty set, e.g. under a no-new-privs sandbox that cleared it, does not).
 */
export function isPrivileged(euid: number | null, capEff: number | null): boolean {
  if (capEff === null) return false;
  return gainedCapabilities(capEff, FULL_CAPABILITY_SET) === 0 || (euid === 0 && capEff !== 0);
}

const CAP_EFF = Uint8Array.from([0x43, 0x61, 0x70, 0x45, 0x66, 0x66, 0x3a]); // "CapEff:"
const CAP_PRM = Uint8Array.from([0x43, 0x61, 0x70, 0x50, 0x72, 0x6d, 0x3a]); // "CapPrm:"

/**
 * Offset just after `key` at the start of a line from `from` on, or -1. (A backward scan from the
 * end was measured slower: Cpus_allowed and Mems_allowed make the tail as long as the head.)
 */
function lineAfter(bytes: Uint8Array, key: Uint8Array, from: number): number {
  const end = bytes.length;
  let i = from;
  while (i + key.length <= end) {
    let k = 0;
    while (k < key.length && bytes[i + k] === key[k]) k++;
    if (k === key.length) return i + key.length;
    const nl = bytes.indexOf(0x0a, i);
    if (nl < 0) return -1;
    i = nl + 1;
  }
  return -1;
}

/** A hex mask after `at` (tabs/spaces, then hex digits to the end of line); null when malformed. */
function hexAt(bytes: Uint8Array, at: number): number | null {
  const end = bytes.length;
  let i = at;
  while (i < end && (bytes[i] === 0x09 || bytes[i] === 0x20)) i++;
  const start = i;
  while (i < end && bytes[i] !== 0x0a) i++;
  if (i === start) return null;
  let v = 0;
  for (let k = start; k < i; k++) {
    const c = bytes[k] as number;
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (d < 0) return null;
    // Only the last 13 digits (52 bits) count: they stay exact in a double (see the module comment).
    if (k >= i - 13) v = v * 16 + d;
  }
  return v;
}

export interface StatusCapabilities {
  effective: number;
  permitted: number;
}

/** CapPrm and CapEff of /proc/<pid>/status (CapPrm comes first; one forward scan), or null. */
export function parseStatusCapabilities(bytes: Uint8Array): StatusCapabilities | null {
  const p = lineAfter(bytes, CAP_PRM, 0);
  if (p < 0) return null;
  const e = lineAfter(bytes, CAP_EFF, p);
  if (e < 0) return null;
  const effective = hexAt(bytes, e);
  const permitted = hexAt(bytes, p);
  return effective === null || permitted === null ? null : { effective, permitted };
}
