/**
 * SIGHUP: what a new configuration changes, and which of the changes are applied while running.
 * Both lists come from the schema's reload markers (src/config/section.ts), never from a list
 * written here: a changed key marked live is handed to its section's applier, any other changed key
 * is reported as taking effect after a restart.
 */
import type { AgentConfig } from '../config/schema.js';
import { sections } from '../config/schema.js';
import { leaves, type ReloadMode } from '../config/section.js';

export type Section = keyof AgentConfig;
/** Applies a section's live keys from the new configuration. */
export type Applier = (next: AgentConfig) => void;
export type Appliers = Partial<Record<Section, Applier>>;

export interface ReloadResult {
  /** Changed keys applied while running ("log.level"). */
  applied: string[];
  /** Changed keys that take effect after a restart. */
  restart: string[];
}

export interface AppliedReload extends ReloadResult {
  /**
   * The configuration now in effect: the running one with the live keys of the new one. Restart
   * keys keep their running values, so a later reload reports them again until the restart.
   */
  active: AgentConfig;
}

const MODES: ReadonlyArray<{ key: string; section: Section; name: string; reload: ReloadMode }> = leaves(sections as never).map((l) => {
  const [section, name] = l.key.split('.') as [Section, string];
  return { key: l.key, section, name, reload: l.reload };
});

/** Sections with at least one key marked live: each needs an applier. */
export function liveSections(): Section[] {
  return [...new Set(MODES.filter((m) => m.reload === 'live').map((m) => m.section))];
}

/**
 * Throws (an internal error, at start) when the appliers do not match the schema: a live section
 * without an applier would answer "reloaded" and apply nothing, the bug this module exists for.
 */
export function checkAppliers(appliers: Appliers): void {
  const live = liveSections();
  const missing = live.filter((s) => !appliers[s]);
  const extra = (Object.keys(appliers) as Section[]).filter((s) => !live.includes(s));
  if (missing.length > 0 || extra.length > 0)
    throw new Error(
      `reload appliers do not match the schema: missing ${missing.join(', ') || 'none'}, not live ${extra.join(', ') || 'none'}`,
    );
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The changed keys, split by their reload mode. */
export function diffConfig(running: AgentConfig, next: AgentConfig): ReloadResult {
  const out: ReloadResult = { applied: [], restart: [] };
  for (const m of MODES) {
    const a = (running[m.section] as unknown as Record<string, unknown>)[m.name];
    const b = (next[m.section] as unknown as Record<string, unknown>)[m.name];
    if (!same(a, b)) (m.reload === 'live' ? out.applied : out.restart).push(m.key);
  }
  return out;
}

/**
 * What a reload would do, without doing it: the changed keys by mode, and the configuration that
 * would then be in effect (the caller validates it before anything is applied).
 */
export function planReload(running: AgentConfig, next: AgentConfig): AppliedReload {
  const diff = diffConfig(running, next);
  const active = structuredClone(running);
  for (const key of diff.applied) {
    const [section, name] = key.split('.') as [Section, string];
    (active[section] as unknown as Record<string, unknown>)[name] = structuredClone(
      (next[section] as unknown as Record<string, unknown>)[name],
    );
  }
  return { ...diff, active };
}

/**
 * Runs the appliers of the sections whose live keys changed, each at most once even when it
 * serves several sections, plus `always` (the filter policy is rebuilt on every reload).
 */
export function applyPlan(plan: AppliedReload, appliers: Appliers, always: Applier[] = []): void {
  const run = new Set<Applier>(always);
  for (const key of plan.applied) {
    const apply = appliers[key.split('.')[0] as Section];
    if (!apply) throw new Error(`no reload applier for ${key}`);
    run.add(apply);
  }
  for (const apply of run) apply(plan.active);
}
