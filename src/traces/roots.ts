/**
 * Root rules: where a new trace begins. A process whose parent is not traced (init, kthreadd, an
 * unknown parent) always begins one; the configured rules add more places. Pure functions of the
 * process entries, so the same process gets the same answer whenever it is asked (see ids.ts).
 */

import type { ProcessInfo } from '../process/model.js';
import type { TraceRoot } from './config.js';

/** Why a span is the root of its trace: a configured rule, or `parent` (its parent is not traced). */
export type RootReason = TraceRoot | 'parent';

/** Compiled root rules. */
export interface RootRules {
  readonly session: boolean;
  readonly container: boolean;
  /** Executables for the `executable` rule, as full paths and base names; empty when the rule is off. */
  readonly executables: ReadonlySet<string>;
}

/** Compiles `traces.root` and `traces.rootExecutables`. */
export function compileRootRules(root: readonly TraceRoot[], executables: readonly string[]): RootRules {
  return {
    session: root.includes('session'),
    container: root.includes('container'),
    executables: new Set(root.includes('executable') ? executables : []),
  };
}

/**
 * The rules a fork's own snapshot is judged by. The kernel gives a child its parent's session and
 * program, so a snapshot that already shows a session leader or a listed executable was read after
 * the child's setsid or exec (the capture thread reads /proc a little later, more so under load);
 * that sid or exec event follows and re-roots the span, keeping where it was forked. Rooting it at
 * the fork would lose that link and make the fork record's trace depend on timing. The container
 * rule stays: no event follows a cgroup move.
 */
export function forkRootRules(rules: RootRules): RootRules {
  return { session: false, container: rules.container, executables: new Set() };
}

function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** Pids whose children have no traced parent: the idle task, init and kthreadd. */
export function hasUntracedParent(p: ProcessInfo): boolean {
  return p.ppid === null || p.ppid <= 2;
}

/** Kernel threads (kthreadd and its children) have no program and no user: they get no span. */
export function isKernelThread(p: ProcessInfo): boolean {
  return p.tgid === 2 || p.ppid === 2;
}

/**
 * The rule that makes `p` begin a new trace, or null when it continues its parent's.
 * `parentContainerId` is the parent's container; `traceRule` is how the parent's trace began:
 * the executable rule starts a trace only at the outermost listed executable (a recursive make
 * stays in the build's trace).
 */
export function ruleRoot(p: ProcessInfo, parentContainerId: string | null, traceRule: RootReason, rules: RootRules): TraceRoot | null {
  if (rules.session && p.sid === p.tgid) return 'session';
  if (rules.container && p.containerId !== null && p.containerId !== parentContainerId) return 'container';
  if (rules.executables.size > 0 && traceRule !== 'executable' && p.exe !== null) {
    if (rules.executables.has(p.exe) || rules.executables.has(basename(p.exe))) return 'executable';
  }
  return null;
}
