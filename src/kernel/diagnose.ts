/**
 * Explains why the proc connector stayed silent, from what this process can see: its user
 * namespace, its PID namespace and the kernel's build options.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** True when /proc/self/uid_map is the identity map of the initial user namespace. */
export function inInitialUserNamespace(uidMap: string): boolean {
  const fields = uidMap.trim().split(/\s+/);
  return fields.length === 3 && fields[0] === '0' && fields[1] === '0' && fields[2] === '4294967295';
}

/** The inode of the initial PID namespace is fixed by the kernel (PROC_PID_INIT_INO). */
const PROC_PID_INIT_INO = 0xeffffffc;

/** True when a /proc/<pid>/ns/pid link target names the initial PID namespace. */
export function isInitialPidNamespace(link: string): boolean {
  return link === `pid:[${PROC_PID_INIT_INO}]`;
}

/** Reads CONFIG_PROC_EVENTS from /proc/config.gz or /boot/config-<release>; null when unknown. */
export function kernelHasProcEvents(release: string): boolean | null {
  let text: string | null = null;
  try {
    text = gunzipSync(readFileSync('/proc/config.gz')).toString('latin1');
  } catch {
    try {
      text = readFileSync(`/boot/config-${release}`, 'latin1');
    } catch {
      return null;
    }
  }
  return /^CONFIG_PROC_EVENTS=y$/m.test(text);
}

function read(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}

/** The message for "LISTEN got no ack", naming the cause when it can be seen from here. */
export function noAckDiagnosis(timeoutMs: number): string {
  const head = `The proc connector did not acknowledge LISTEN within ${timeoutMs} ms`;
  const uidMap = read('/proc/self/uid_map');
  if (uidMap && !inInitialUserNamespace(uidMap)) {
    return `${head}: the agent runs in a user namespace (uid_map "${uidMap.trim().replace(/\s+/g, ' ')}"), and the kernel ignores subscriptions from outside the initial one. Run it on the host or in a privileged container with the host PID and network namespaces.`;
  }
  let pidNs = '';
  try {
    pidNs = readlinkSync('/proc/self/ns/pid');
  } catch {
    // Unknown: fall through to the generic message.
  }
  if (pidNs && !isInitialPidNamespace(pidNs)) {
    return `${head}: the agent runs in a child PID namespace, and the kernel ignores subscriptions from outside the initial one. In a container use the host PID namespace (hostPID: true, docker --pid=host) and the host network namespace.`;
  }
  const release = read('/proc/sys/kernel/osrelease').trim();
  if (kernelHasProcEvents(release) === false) {
    return `${head}: kernel ${release} is built without CONFIG_PROC_EVENTS, so there are no process events to capture.`;
  }
  return `${head}. Likely causes: the agent runs outside the initial PID or user namespace (containers need hostPID and hostNetwork), or the kernel lacks CONFIG_PROC_EVENTS.`;
}
