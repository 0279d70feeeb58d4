/**
 * One configuration section as a module declares it: its convict keys, and whether a change to it
 * is applied while running (SIGHUP) or needs a restart. The reload derives its "applied" and
 * "needs a restart" lists from these markers, so a new section cannot be forgotten.
 */

/** live: SIGHUP applies a change; restart: SIGHUP reports it as taking effect after a restart. */
export type ReloadMode = 'live' | 'restart';

/**
 * One key as convict reads it (default, doc, format, env, arg, sensitive), spelled out here so
 * that declaring a section does not reach convict, not even for its types.
 */
export interface ConfigLeaf<T> {
  default: T;
  doc: string;
  /** A format name declared in ./formats.ts, or a check function. */
  format: string | ((value: unknown) => void);
  env?: string;
  arg?: string;
  /** Masked in --print-config and in error messages. */
  sensitive?: boolean;
  /** Overrides the section's mode for this key (e.g. capture.events is live in a restart section). */
  reload?: ReloadMode;
  /**
   * A check of a structured value run after convict's own (filter.rules): it throws a ConfigError
   * whose detail points inside the value, so the message names the entry, its value and its line.
   */
  check?: (value: T) => void;
}

export interface ConfigSection<T> {
  reload: ReloadMode;
  keys: { [K in keyof T]-?: ConfigLeaf<T[K]> };
}

/** Every leaf of a schema by dotted key ("capture.events"), with the mode that applies to it. */
export function leaves(
  sections: Record<string, ConfigSection<Record<string, unknown>>>,
): Array<{ key: string; leaf: ConfigLeaf<unknown>; reload: ReloadMode }> {
  const out: Array<{ key: string; leaf: ConfigLeaf<unknown>; reload: ReloadMode }> = [];
  for (const [name, section] of Object.entries(sections)) {
    for (const [k, leaf] of Object.entries(section.keys)) {
      out.push({ key: `${name}.${k}`, leaf: leaf as ConfigLeaf<unknown>, reload: (leaf as ConfigLeaf<unknown>).reload ?? section.reload });
    }
  }
  return out;
}

/**
 * A section's defaults, straight from its keys (no convict, no environment): what a library user
 * gets for an option left out. A copy, so callers may change it.
 */
export function defaultsOf<T>(section: ConfigSection<T>): T {
  const out: Record<string, unknown> = {};
  for (const [k, leaf] of Object.entries(section.keys)) out[k] = structuredClone((leaf as ConfigLeaf<unknown>).default);
  return out as T;
}
