/**
 * ConfigError: every problem the operator must fix in the configuration (exit 78, and on SIGHUP
 * "keeping the running one"). A leaf module with no imports, so any stage can throw it without
 * loading the schema, and callers classify errors by type, never by message text.
 */

/** Where inside a key's value a problem is, for values that are structures (filter.rules). */
export interface ConfigErrorDetail {
  /** Path inside the key's value, e.g. [1, 'match', 'exitCode'] in filter.rules. */
  at: ReadonlyArray<string | number>;
  /** The offending value at that path. */
  value: unknown;
  /** What is wrong, without the location (the message repeats it with a location). */
  problem: string;
}

export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
  /**
   * Set when the error is about one entry inside a structured value: the loader then names
   * "key[1].match.exitCode", the file line of that entry and its value, not the whole value.
   */
  readonly detail: ConfigErrorDetail | null;

  constructor(message: string, detail: ConfigErrorDetail | null = null) {
    super(message);
    this.detail = detail;
  }
}

/** "filter.rules" + [1, 'match', 'exitCode'] → "filter.rules[1].match.exitCode". */
export function joinPath(key: string, at: ReadonlyArray<string | number>): string {
  let out = key;
  for (const p of at) out += typeof p === 'number' ? `[${p}]` : `.${p}`;
  return out;
}

/** ": value was ..." as convict words it, or nothing for a value that is not there. */
export function describeValue(value: unknown): string {
  if (value === undefined) return '';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return `: value was ${text.length > 200 ? `${text.slice(0, 200)}...` : text}`;
}
