/**
 * One configuration section as a module declares it: its convict keys, and whether a change to it
 * is applied while running (SIGHUP) or needs a restart. The reload derives its "applied" and
 * "needs a restart" lists from these markers, so a new section cannot be forgotten.
 */
import type convict from 'convict';

/** live: SIGHUP applies a change; restart: SIGHUP reports it as taking effect after a restart. */
export type ReloadMode = 'live' | 'restart';

export type ConfigLeaf<T> = convict.SchemaObj<T> & {
  /** Overrides the section's mode for this key (e.g. capture.events is live in a restart section). */
  reload?: ReloadMode;
  /**
   * A check of a structured value run after convict's own (filter.rules): it throws a ConfigError
   * whose detail points inside the value, so the message names the entry, its value and its line.
   */
  check?: (value: T) => void;
};

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
