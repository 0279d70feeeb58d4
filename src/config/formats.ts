/**
 * Strict value formats for the convict schema. convict's built-ins coerce loosely from env and CLI
 * strings (parseInt("64MiB") is 64, any string but "false" is true); an agent that runs privileged
 * on every host must refuse such values instead of guessing.
 *
 * Declaring a format does not load convict: each module's config section (kernel/config.ts, ...)
 * names its formats here, and only the loader (./load.ts) hands them to convict. So using a module
 * as a library (the event source, say) never loads convict or the schema.
 */

export interface Format {
  name: string;
  validate: (v: unknown) => void;
  coerce: (v: string) => unknown;
}

const formats = new Map<string, Format>();

function register(name: string, validate: (v: unknown) => void, coerce: (v: string) => unknown): string {
  if (!formats.has(name)) formats.set(name, { name, validate, coerce });
  return name;
}

/** Every format declared so far, for the loader to register with convict. */
export function declaredFormats(): Format[] {
  return [...formats.values()];
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** Parses "64MiB", "512 KiB", "1048576"; returns NaN for anything else. */
export function parseBytes(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return Number.NaN;
  const unit = UNITS[(m[2] as string).toLowerCase()];
  if (unit === undefined) return Number.NaN;
  return Math.round(Number(m[1]) * unit);
}

/** An integer in [min, max]; strings must be plain decimal integers. */
export function intFormat(min: number, max: number): string {
  return register(
    `int[${min},${max}]`,
    (v) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
        throw new Error(`must be an integer from ${min} to ${max}`);
      }
    },
    (s) => (/^\s*-?\d+\s*$/.test(s) ? Number(s) : s),
  );
}

/** A byte size in [min, max]; numbers or strings with a unit (B, KiB, MiB, GiB, KB, MB, GB). */
export function bytesFormat(min: number, max: number): string {
  return register(
    `bytes[${min},${max}]`,
    (v) => {
      const n = typeof v === 'string' ? parseBytes(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
        throw new Error(`must be a size from ${min} to ${max} bytes (a number, or e.g. "64MiB")`);
      }
    },
    (s) => {
      const n = parseBytes(s);
      return Number.isNaN(n) ? s : n;
    },
  );
}

/** true/false; strings true, false, yes, no, on, off, 1, 0 (any case). */
export const BOOLEAN = register(
  'strict-boolean',
  (v) => {
    if (typeof v !== 'boolean') throw new Error('must be true or false');
  },
  (s) => {
    const t = s.trim().toLowerCase();
    if (['true', 'yes', 'on', '1'].includes(t)) return true;
    if (['false', 'no', 'off', '0'].includes(t)) return false;
    return s;
  },
);

/** A list of distinct values from `allowed` (non-empty unless `allowEmpty`); strings are comma-separated lists. */
export function listOf(name: string, allowed: readonly string[], allowEmpty = false): string {
  return register(
    name,
    (v) => {
      if (!Array.isArray(v) || (!allowEmpty && v.length === 0)) {
        throw new Error(`must be a ${allowEmpty ? '' : 'non-empty '}list of: ${allowed.join(', ')}`);
      }
      const seen = new Set<string>();
      for (const item of v) {
        if (typeof item !== 'string' || !allowed.includes(item)) throw new Error(`"${String(item)}" is not one of: ${allowed.join(', ')}`);
        if (seen.has(item)) throw new Error(`"${item}" is listed twice`);
        seen.add(item);
      }
    },
    (s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== ''),
  );
}

/** One of `allowed`. */
export function oneOf(name: string, allowed: readonly string[]): string {
  return register(
    name,
    (v) => {
      if (typeof v !== 'string' || !allowed.includes(v)) throw new Error(`must be one of: ${allowed.join(', ')}`);
    },
    (s) => s.trim(),
  );
}

/** An http(s) URL, or empty for "not set". */
export function urlOrEmpty(name: string): string {
  return register(
    name,
    (v) => {
      if (v === '') return;
      let u: URL;
      try {
        u = new URL(String(v));
      } catch {
        throw new Error('must be an http:// or https:// URL');
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('must be an http:// or https:// URL');
    },
    (s) => s.trim(),
  );
}

/** A list of regular expression sources, each checked with `check` (which throws a clear message). */
export function patternList(name: string, check: (patterns: string[]) => void): string {
  return register(
    name,
    (v) => {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error('must be a list of regular expressions (strings)');
      check(v as string[]);
    },
    (s) => (s.trim() === '' ? [] : s.split('\n')),
  );
}

/**
 * A list of structured rules. Only the list itself is checked here: convict would print the whole
 * list as the bad value, so each rule is checked by the key's `check` (the loader names the entry).
 */
export function ruleList(name: string): string {
  return register(
    name,
    (v) => {
      if (!Array.isArray(v)) throw new Error('must be a list of rules');
    },
    (s) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        return s;
      }
    },
  );
}

/** A "key=value,key2=value2" string (OTEL_RESOURCE_ATTRIBUTES style), checked with `parse`. */
export function keyValueList(name: string, parse: (text: string) => unknown): string {
  return register(
    name,
    (v) => {
      if (typeof v !== 'string') throw new Error('must be a string of key=value pairs separated by commas');
      parse(v);
    },
    (s) => s,
  );
}
