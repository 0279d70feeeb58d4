/**
 * Filter rules: parsing and validation of the `filter.rules` configuration, compiled once per
 * load into plain condition objects (every glob and regex is built here, never per event).
 *
 * A rule: `{ name?, action: keep | drop, match: { ...conditions } }`. All conditions of a rule must
 * hold (AND); a list value holds when any entry matches (OR). Conditions:
 *
 * | key | value | matches |
 * |---|---|---|
 * | events | list of event types | the event type (fork, exec, uid, gid, sid, ptrace, comm, coredump, exit) |
 * | executable | glob or list | executable path; `*` matches anything (also `/`), `?` one character, `[abc]` a class |
 * | executableRegex | regex | executable path |
 * | comm | glob or list | kernel task name |
 * | argv | regex | the command line (arguments joined by spaces, before redaction) |
 * | user | name, id or list | effective user |
 * | group | name, id or list | effective group |
 * | loginUser | `human`, `daemon`, or names/ids | audit login uid: set (a login session) or unset (a daemon) |
 * | container | true, false, or id prefixes | in a container (any), on the host, or in these containers |
 * | containerName | glob or list | the container's name (runtime state; in Kubernetes the pod's container name) |
 * | image | glob or list | the container's image, as `name` or `name:tag` (e.g. `docker.io/library/nginx*`) |
 * | namespace | glob or list | the Kubernetes namespace of the container's pod |
 * | pod | glob or list | the Kubernetes pod name |
 * | cgroup | glob or list | cgroup path |
 * | parent | glob or list | the parent's executable |
 * | ancestor | glob or list | any ancestor's executable (as deep as process.ancestryDepth) |
 * | exitCode | `nonzero`, or a list of codes | exit events: non-zero status / these exit codes |
 * | thread | true or false | the event is about a thread (fork/exit of a non-leader thread) |
 * | escalated | true or false | an exec, ptrace attach or uid change that raised privileges (process/escalation.ts) / any other event |
 * | escalation | mechanism or list | an event that escalated by one of: setuid, setgid, file_capabilities, ptrace, uid_change |
 * | capability | name or list | the process holds one of these effective capabilities (`cap_sys_admin` or `sys_admin`) |
 * | fileless | true or false | the executable is / is not a memfd or a deleted file (process/executable.ts) |
 * | writableByUser | true or false | the program file is / is not writable by the user running it (known file only) |
 * | privileged | true or false | the process is / is not privileged in its user namespace (known capabilities only) |
 * | tmpfs | true or false | the executable is / is not on a tmpfs, ramfs or devtmpfs mount (process/mounts.ts; known mounts only) |
 * | upperLayer | true or false | the executable is / is not in a container's writable overlay layer (known mounts only) |
 * | nonHostNamespace | type or list | the process is in a namespace of one of these types that is not the host's (process.namespaces) |
 * | sha256 | hex digest or list | the executable's SHA-256 (known only once hashed: an exec of a file not in the hash cache yet does not match) |
 * | buildId | hex or list | the executable's GNU build id (read at exec: always known for an ELF file that has one) |
 */
import { ConfigError, describeValue, joinPath } from '../config/errors.js';
import { EVENT_TYPES, type EventType } from '../kernel/events.js';
import { capabilityNumber } from '../process/capabilities.js';
import type { EscalationMechanism } from '../process/model.js';
import { NAMESPACE_TYPES, type NamespaceType } from '../process/namespaces.js';

const MECHANISMS: readonly EscalationMechanism[] = ['setuid', 'setgid', 'file_capabilities', 'ptrace', 'uid_change'];

export type Action = 'keep' | 'drop';

const MATCH_KEYS = [
  'events',
  'executable',
  'executableRegex',
  'comm',
  'argv',
  'user',
  'group',
  'loginUser',
  'container',
  'containerName',
  'image',
  'namespace',
  'pod',
  'cgroup',
  'parent',
  'ancestor',
  'exitCode',
  'thread',
  'escalated',
  'escalation',
  'capability',
  'privileged',
  'fileless',
  'writableByUser',
  'tmpfs',
  'upperLayer',
  'nonHostNamespace',
  'sha256',
  'buildId',
] as const;
export type MatchKey = (typeof MATCH_KEYS)[number];

/** One compiled condition. `field` says what it reads; values are prepared for a plain test. */
export type Condition =
  | {
      field: 'executable' | 'comm' | 'cgroup' | 'parent' | 'ancestor' | 'containerName' | 'image' | 'namespace' | 'pod';
      patterns: RegExp[];
    }
  | { field: 'argv'; pattern: RegExp }
  | { field: 'user' | 'group'; ids: Set<number>; names: Set<string> }
  | { field: 'loginUser'; human: boolean | null; ids: Set<number>; names: Set<string> }
  | { field: 'container'; any: boolean | null; prefixes: string[] }
  | { field: 'exitCode'; nonzero: boolean; codes: Set<number> }
  | { field: 'thread' | 'escalated' | 'privileged' | 'fileless' | 'writableByUser' | 'tmpfs' | 'upperLayer'; value: boolean }
  | { field: 'nonHostNamespace'; types: Set<NamespaceType> }
  | { field: 'escalation'; mechanisms: Set<EscalationMechanism> }
  /** Capability numbers (capabilities.ts). */
  | { field: 'capability'; caps: number[] }
  /** Lower-case hex strings. */
  | { field: 'sha256' | 'buildId'; values: Set<string> };

export interface CompiledRule {
  name: string;
  action: Action;
  /** Event types the rule applies to (all when `events` is absent). */
  events: ReadonlySet<EventType>;
  /** Conditions beyond the event type; empty = the rule decides every event of its types. */
  conditions: Condition[];
}

/**
 * A problem in one rule: `at` is the path inside `filter.rules` ([index, 'match', key]) and `value`
 * the offending value there, so the loader can name the key, the value and its line in the file.
 */
export class RuleError extends ConfigError {
  override readonly name = 'RuleError';

  /** `label` names the rule ("rule 2 (failures)"), `at` the path inside filter.rules. */
  constructor(label: string, at: ReadonlyArray<string | number>, problem: string, value: unknown) {
    const inside = joinPath('', at.slice(1)).replace(/^\./, '');
    super(`${label}: ${inside === '' ? '' : `${inside}: `}${problem}${describeValue(value)}`, { at, value, problem });
  }
}

/** Turns a glob into an anchored RegExp: `*` any run of characters, `?` one, `[...]` a class. */
export function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let cls = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v];
}

/** Where a condition is: the rule's label for messages, and its path inside filter.rules. */
interface Where {
  label: string;
  at: Array<string | number>;
}

function fail(w: Where, problem: string, value: unknown, at: Array<string | number> = w.at): never {
  throw new RuleError(w.label, at, problem, value);
}

function compileRegex(w: Where, source: unknown): RegExp {
  if (typeof source !== 'string' || source === '') fail(w, 'must be a regular expression (a non-empty string)', source);
  let flags = '';
  let src = source;
  if (src.startsWith('(?i)')) {
    flags = 'i';
    src = src.slice(4);
  }
  try {
    return new RegExp(src, flags);
  } catch (err) {
    return fail(w, `not a valid regular expression: ${(err as Error).message}`, source);
  }
}

/** The path of entry i of a condition's value: the entry itself when the value is a list. */
function entryAt(w: Where, v: unknown, i: number): Array<string | number> {
  return Array.isArray(v) ? [...w.at, i] : w.at;
}

function globs(w: Where, v: unknown): RegExp[] {
  return list(v).map((g, i) => {
    if (typeof g !== 'string' || g === '') fail(w, 'must be a glob pattern or a list of them', g, entryAt(w, v, i));
    return globToRegExp(g);
  });
}

function idsAndNames(w: Where, v: unknown): { ids: Set<number>; names: Set<string> } {
  const ids = new Set<number>();
  const names = new Set<string>();
  const xs = list(v);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (typeof x === 'number' && Number.isInteger(x) && x >= 0) ids.add(x);
    else if (typeof x === 'string' && /^\d+$/.test(x)) ids.add(Number(x));
    else if (typeof x === 'string' && x !== '') names.add(x);
    else fail(w, 'is not a name or a numeric id', x, entryAt(w, v, i));
  }
  return { ids, names };
}

function compileCondition(w: Where, key: MatchKey, v: unknown): Condition | EventType[] {
  switch (key) {
    case 'events': {
      const types = list(v);
      types.forEach((t, i) => {
        if (!EVENT_TYPES.includes(t as EventType)) fail(w, `must be one of: ${EVENT_TYPES.join(', ')}`, t, entryAt(w, v, i));
      });
      if (types.length === 0) fail(w, 'must list at least one event type', v);
      return types as EventType[];
    }
    case 'executable':
    case 'comm':
    case 'cgroup':
    case 'parent':
    case 'ancestor':
    case 'containerName':
    case 'image':
    case 'namespace':
    case 'pod':
      return { field: key, patterns: globs(w, v) };
    case 'executableRegex':
      return { field: 'executable', patterns: [compileRegex(w, v)] };
    case 'argv':
      return { field: 'argv', pattern: compileRegex(w, v) };
    case 'user':
    case 'group':
      return { field: key, ...idsAndNames(w, v) };
    case 'loginUser': {
      if (v === 'human' || v === 'daemon') return { field: 'loginUser', human: v === 'human', ids: new Set(), names: new Set() };
      return { field: 'loginUser', human: null, ...idsAndNames(w, v) };
    }
    case 'container': {
      if (typeof v === 'boolean') return { field: 'container', any: v, prefixes: [] };
      const prefixes = list(v).map((p, i) => {
        if (typeof p !== 'string' || !/^[0-9a-f]{1,64}$/.test(p))
          fail(w, 'is not a container id (prefix of hex digits)', p, entryAt(w, v, i));
        return p;
      });
      return { field: 'container', any: null, prefixes };
    }
    case 'exitCode': {
      if (v === 'nonzero') return { field: 'exitCode', nonzero: true, codes: new Set() };
      const codes = new Set<number>();
      const xs = list(v);
      for (let i = 0; i < xs.length; i++) {
        const c = xs[i];
        if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > 255) {
          fail(w, 'must be "nonzero" or exit codes from 0 to 255', c, entryAt(w, v, i));
        }
        codes.add(c);
      }
      return { field: 'exitCode', nonzero: false, codes };
    }
    case 'thread':
    case 'escalated':
    case 'privileged':
    case 'fileless':
    case 'writableByUser':
    case 'tmpfs':
    case 'upperLayer':
      if (typeof v !== 'boolean') fail(w, 'must be true or false', v);
      return { field: key, value: v };
    case 'nonHostNamespace': {
      const xs = list(v);
      if (xs.length === 0) fail(w, `must list at least one of: ${NAMESPACE_TYPES.join(', ')}`, v);
      const types = new Set<NamespaceType>();
      xs.forEach((t, i) => {
        if (!NAMESPACE_TYPES.includes(t as NamespaceType)) fail(w, `must be one of: ${NAMESPACE_TYPES.join(', ')}`, t, entryAt(w, v, i));
        types.add(t as NamespaceType);
      });
      return { field: 'nonHostNamespace', types };
    }
    case 'escalation': {
      const xs = list(v);
      if (xs.length === 0) fail(w, `must list at least one of: ${MECHANISMS.join(', ')}`, v);
      const mechanisms = new Set<EscalationMechanism>();
      xs.forEach((m, i) => {
        if (!MECHANISMS.includes(m as EscalationMechanism)) fail(w, `must be one of: ${MECHANISMS.join(', ')}`, m, entryAt(w, v, i));
        mechanisms.add(m as EscalationMechanism);
      });
      return { field: 'escalation', mechanisms };
    }
    case 'sha256':
    case 'buildId': {
      const xs = list(v);
      if (xs.length === 0) fail(w, 'must list at least one hex value', v);
      const values = new Set<string>();
      xs.forEach((h, i) => {
        const ok =
          typeof h === 'string' && (key === 'sha256' ? /^[0-9a-fA-F]{64}$/.test(h) : /^[0-9a-fA-F]{2,128}$/.test(h) && h.length % 2 === 0);
        if (!ok)
          fail(
            w,
            key === 'sha256' ? 'is not a SHA-256 digest (64 hex digits)' : 'is not a build id (an even number of hex digits)',
            h,
            entryAt(w, v, i),
          );
        values.add((h as string).toLowerCase());
      });
      return { field: key, values };
    }
    case 'capability': {
      const xs = list(v);
      if (xs.length === 0) fail(w, 'must name at least one capability', v);
      const caps = xs.map((c, i) => {
        const n = typeof c === 'string' ? capabilityNumber(c) : -1;
        if (n < 0) fail(w, 'is not a capability name (e.g. cap_sys_admin; see capabilities(7))', c, entryAt(w, v, i));
        return n;
      });
      return { field: 'capability', caps };
    }
  }
}

/** Validates and compiles `filter.rules`. Throws RuleError naming the rule and the field. */
export function compileRules(raw: unknown): CompiledRule[] {
  if (!Array.isArray(raw)) throw new RuleError('filter.rules', [], 'must be a list of rules', undefined);
  return raw.map((r, i) => {
    const label = `rule ${i + 1}`;
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw new RuleError(label, [i], 'must be a mapping with action and match', r);
    const rule = r as Record<string, unknown>;
    for (const k of Object.keys(rule)) {
      if (!['name', 'action', 'match'].includes(k))
        throw new RuleError(label, [i, k], `unknown key "${k}" (allowed: name, action, match)`, rule[k]);
    }
    const name = rule.name === undefined ? label : String(rule.name);
    const where = rule.name === undefined ? label : `${label} (${name})`;
    if (rule.action !== 'keep' && rule.action !== 'drop')
      throw new RuleError(where, [i, 'action'], 'action must be keep or drop', rule.action);
    const match = rule.match ?? {};
    if (typeof match !== 'object' || Array.isArray(match))
      throw new RuleError(where, [i, 'match'], 'match must be a mapping of conditions', match);
    let events: ReadonlySet<EventType> = new Set(EVENT_TYPES);
    const conditions: Condition[] = [];
    for (const [k, v] of Object.entries(match as Record<string, unknown>)) {
      if (!(MATCH_KEYS as readonly string[]).includes(k)) {
        throw new RuleError(where, [i, 'match', k], `unknown condition "${k}" (allowed: ${MATCH_KEYS.join(', ')})`, v);
      }
      const c = compileCondition({ label: where, at: [i, 'match', k] }, k as MatchKey, v);
      if (Array.isArray(c)) events = new Set(c);
      else conditions.push(c);
    }
    return { name, action: rule.action, events, conditions };
  });
}
