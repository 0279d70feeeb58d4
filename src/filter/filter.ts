/**
 * The event filter: ordered rules, first match wins, a configurable default; per-rule hit counts;
 * and the kernel subscription the rules need (event types no rule can keep are not subscribed).
 * Runs after enrichment, so rules can match on executables, users, containers and ancestry.
 */
import { EVENT_TYPES, type EventType } from '../kernel/events.js';
import { hasCapability, isPrivileged } from '../process/capabilities.js';
import { executableOrigin, writableByUser } from '../process/executable.js';
import type { EnrichedEvent } from '../process/model.js';
import type { Workload } from '../process/workload.js';
import { type Action, type CompiledRule, type Condition, compileRules } from './rules.js';

export interface NameLookup {
  userName(uid: number): string | undefined;
  groupName(gid: number): string | undefined;
}

export interface FilterStats {
  kept: number;
  dropped: number;
  /** Hits per rule, in rule order, plus the default. */
  rules: Array<{ name: string; action: Action; hits: number }>;
  defaultHits: number;
}

/** What the kernel must send for these rules. */
export interface Subscription {
  events: EventType[];
  /** Every rule that can keep an exit needs a non-zero code: the kernel can filter the rest. */
  exitNonzeroOnly: boolean;
}

export class EventFilter {
  readonly rules: readonly CompiledRule[];
  private readonly hits: number[];
  private defaultHits = 0;
  private kept = 0;
  private dropped = 0;

  constructor(
    rules: unknown,
    readonly defaultAction: Action,
    private readonly names: NameLookup,
  ) {
    this.rules = compileRules(rules);
    this.hits = this.rules.map(() => 0);
  }

  /** True when the event is to be exported. */
  keep(x: EnrichedEvent): boolean {
    const kind = x.event.kind;
    let argv: string | null | undefined;
    for (let i = 0; i < this.rules.length; i++) {
      const r = this.rules[i] as CompiledRule;
      if (kind !== 'unknown' && !r.events.has(kind)) continue;
      let all = true;
      for (let j = 0; j < r.conditions.length; j++) {
        const c = r.conditions[j] as Condition;
        if (c.field === 'argv') {
          if (argv === undefined) argv = x.process?.argv ? x.process.argv.join(' ') : null;
          if (argv === null || !c.pattern.test(argv)) {
            all = false;
            break;
          }
        } else if (!this.test(c, x)) {
          all = false;
          break;
        }
      }
      if (all) {
        (this.hits[i] as number)++;
        return this.count(r.action === 'keep');
      }
    }
    this.defaultHits++;
    return this.count(this.defaultAction === 'keep');
  }

  private count(keep: boolean): boolean {
    if (keep) this.kept++;
    else this.dropped++;
    return keep;
  }

  private test(c: Exclude<Condition, { field: 'argv' }>, x: EnrichedEvent): boolean {
    const p = x.process;
    const e = x.event;
    switch (c.field) {
      case 'executable':
        return anyMatch(c.patterns, p?.exe);
      case 'comm':
        return anyMatch(c.patterns, e.kind === 'comm' ? e.comm : p?.comm);
      case 'cgroup':
        return anyMatch(c.patterns, p?.cgroup);
      case 'parent':
        return anyMatch(c.patterns, x.parent?.exe ?? x.ancestors[0]);
      case 'ancestor':
        for (const a of x.ancestors) if (anyMatch(c.patterns, a)) return true;
        return false;
      case 'user': {
        const uid = e.kind === 'uid' ? e.euid : p?.euid;
        return idOrName(c.ids, c.names, uid, (id) => this.names.userName(id));
      }
      case 'group': {
        const gid = e.kind === 'gid' ? e.egid : p?.egid;
        return idOrName(c.ids, c.names, gid, (id) => this.names.groupName(id));
      }
      case 'loginUser': {
        const login = p?.loginUid ?? null;
        if (c.human !== null) return c.human ? login !== null : login === null;
        return idOrName(c.ids, c.names, login, (id) => this.names.userName(id));
      }
      case 'container': {
        const id = p?.containerId ?? null;
        if (c.any !== null) return c.any ? id !== null : id === null;
        if (id === null) return false;
        for (const pre of c.prefixes) if (id.startsWith(pre)) return true;
        return false;
      }
      case 'containerName':
        return anyMatch(c.patterns, x.workload?.containerName);
      case 'image': {
        const w = x.workload;
        if (!w || w.imageName === null) return false;
        return anyMatch(c.patterns, w.imageName) || (w.imageTag !== null && anyMatch(c.patterns, imageWithTag(w)));
      }
      case 'namespace':
        return anyMatch(c.patterns, x.workload?.namespace);
      case 'pod':
        return anyMatch(c.patterns, x.workload?.podName);
      case 'exitCode':
        if (e.kind !== 'exit') return false;
        return c.nonzero ? e.status !== 0 : e.exitCode !== null && c.codes.has(e.exitCode);
      case 'thread':
        return ((e.kind === 'fork' || e.kind === 'exit') && e.isThread) === c.value;
      case 'escalated':
        return (x.escalation != null) === c.value;
      case 'escalation': {
        const esc = x.escalation;
        if (esc == null) return false;
        for (const m of esc.mechanisms) if (c.mechanisms.has(m)) return true;
        return false;
      }
      case 'capability': {
        const eff = p?.capEffective ?? null;
        if (eff === null) return false;
        for (const n of c.caps) if (hasCapability(eff, n)) return true;
        return false;
      }
      case 'fileless':
        // Unknown executable: neither.
        if (!p || p.exe === null) return false;
        return (executableOrigin(p.exe) !== null) === c.value;
      case 'writableByUser': {
        // Unknown file or ids: neither.
        const w = p ? writableByUser(p.exeFile, p.euid, p.egid) : null;
        return w !== null && w === c.value;
      }
      case 'tmpfs':
      case 'upperLayer': {
        // Unknown mount (not read, or the lookup could not say): neither.
        if (!p || p.exe === null || p.mntNs === null) return false;
        if (p.exeMount !== null) return (p.exeMount.kind === (c.field === 'tmpfs' ? 'tmpfs' : 'upper_layer')) === c.value;
        if (!c.value) for (const m of p.missing) if (m.startsWith('exe_mount:')) return false;
        return !c.value;
      }
      case 'nonHostNamespace': {
        const nonHost = p?.namespaces?.nonHost;
        if (!nonHost) return false;
        for (const t of nonHost) if (c.types.has(t)) return true;
        return false;
      }
      case 'sha256': {
        const h = p?.exeFile?.sha256 ?? null;
        return h !== null && c.values.has(h);
      }
      case 'buildId': {
        const b = p?.exeFile?.buildId ?? null;
        return b !== null && c.values.has(b);
      }
      case 'privileged': {
        // Unknown capabilities: the condition does not hold either way (as for any unknown value).
        if (!p || p.capEffective === null) return false;
        return isPrivileged(p.euid, p.capEffective) === c.value;
      }
    }
  }

  stats(): FilterStats {
    return {
      kept: this.kept,
      dropped: this.dropped,
      rules: this.rules.map((r, i) => ({ name: r.name, action: r.action, hits: this.hits[i] as number })),
      defaultHits: this.defaultHits,
    };
  }

  /**
   * The event types some path through the rules can keep, in kernel-subscription terms. A type is
   * needed unless every event of it is dropped: by a rule that matches all of that type before
   * any rule that could keep it, or by the default when no rule can keep it.
   */
  subscription(): Subscription {
    const events: EventType[] = [];
    let exitNonzeroOnly = false;
    for (const t of EVENT_TYPES) {
      let needed = false;
      let onlyNonzero = true;
      let decided = false;
      for (const r of this.rules) {
        if (!r.events.has(t)) continue;
        if (r.conditions.length === 0) {
          if (r.action === 'keep') {
            needed = true;
            onlyNonzero = false;
          }
          decided = true;
          break;
        }
        if (r.action === 'keep') {
          needed = true;
          const nz = r.conditions.some((c) => c.field === 'exitCode' && c.nonzero);
          if (!nz) onlyNonzero = false;
        }
      }
      if (!decided && this.defaultAction === 'keep') {
        needed = true;
        onlyNonzero = false;
      }
      if (needed) events.push(t);
      if (t === 'exit' && needed && onlyNonzero) exitNonzeroOnly = true;
    }
    return { events, exitNonzeroOnly };
  }
}

const tagged = new WeakMap<Workload, string>();

/** "name:tag", made once per workload (rules test it for every event of the container). */
function imageWithTag(w: Workload): string {
  let s = tagged.get(w);
  if (s === undefined) {
    s = `${w.imageName}:${w.imageTag}`;
    tagged.set(w, s);
  }
  return s;
}

function anyMatch(patterns: RegExp[], value: string | null | undefined): boolean {
  if (value === null || value === undefined) return false;
  for (const p of patterns) if (p.test(value)) return true;
  return false;
}

function idOrName(ids: Set<number>, names: Set<string>, id: number | null | undefined, name: (id: number) => string | undefined): boolean {
  if (id === null || id === undefined) return false;
  if (ids.has(id)) return true;
  if (names.size === 0) return false;
  const n = name(id);
  return n !== undefined && names.has(n);
}
