/**
 * Loads and validates the configuration: defaults < file (YAML or JSON) < environment < CLI flags.
 * Every failure is a ConfigError whose message names the key, the bad value, what is allowed and,
 * for file values, the file and line.
 */
import { readFileSync } from 'node:fs';
import convict from 'convict';
import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { ConfigError, describeValue, joinPath } from './errors.js';
import { declaredFormats } from './formats.js';
import { type AgentConfig, schema, sections } from './schema.js';
import { leaves } from './section.js';

export { ConfigError } from './errors.js';

export interface LoadOptions {
  /** Config file path (YAML, or JSON by its .json extension). */
  file?: string;
  /** Environment (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** CLI arguments carrying schema flags, e.g. ['--console-format', 'json']. */
  args?: string[];
  /** Values set in code (the library API), applied above everything else. */
  overrides?: Record<string, unknown>;
}

interface ParsedFile {
  value: unknown;
  /** Finds the line of a key (and a path inside its value) in the file, for messages. */
  lineOf(path: ReadonlyArray<string | number>): number | null;
}

function parseFile(file: string): ParsedFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read config file ${file}: ${code ?? String(err)}`);
  }
  // JSON is valid YAML 1.2, so one parser serves both and gives line numbers for either.
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e?.pos?.[0] !== undefined ? lines.linePos(e.pos[0]) : null;
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    throw new ConfigError(`${where}: not valid YAML/JSON: ${e?.message.split('\n')[0] ?? 'parse error'}`);
  }
  const value = doc.toJS() as unknown;
  if (value !== null && value !== undefined && (typeof value !== 'object' || Array.isArray(value))) {
    throw new ConfigError(`${file}: the top level must be a mapping of keys (capture:, console:, ...)`);
  }
  return { value: value ?? {}, lineOf: (path) => lineOfKey(doc, lines, path) };
}

/** The line of the deepest node on `path` found in the file (a key, or an entry of a list). */
function lineOfKey(doc: Document, lines: LineCounter, path: ReadonlyArray<string | number>): number | null {
  let node: unknown = doc.contents;
  let line: number | null = null;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!isSeq(node)) return line;
      const item = node.items[step] as { range?: [number, number, number] } | undefined;
      if (!item) return line;
      if (item.range) line = lines.linePos(item.range[0]).line;
      node = item;
      continue;
    }
    if (!isMap(node)) return line;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === step);
    if (!pair) return line;
    const range = isScalar(pair.key) ? pair.key.range : undefined;
    if (range) line = lines.linePos(range[0]).line;
    node = pair.value;
  }
  return line;
}

/** The key a convict error message is about. */
function keyOf(message: string): string | null {
  const m = /^configuration param '([^']+)'/.exec(message) ?? /^([A-Za-z0-9_.]+): /.exec(message);
  return m ? (m[1] as string) : null;
}

function describe(message: string): string {
  return message.replace(/^configuration param '([^']+)' not declared in the schema/, "unknown key '$1'");
}

const registered = new Set<string>();

/** Hands the formats the sections declared to convict (once each), before a schema uses them. */
function registerFormats(): void {
  for (const f of declaredFormats()) {
    if (registered.has(f.name)) continue;
    convict.addFormat(f);
    registered.add(f.name);
  }
}

/** Loads, merges and validates. Throws ConfigError. */
export function loadConfig(opts: LoadOptions = {}): AgentConfig {
  registerFormats();
  const config = convict(schema, { env: opts.env ?? process.env, args: opts.args ?? [] });
  let parsed: ParsedFile | null = null;
  if (opts.file) {
    parsed = parseFile(opts.file);
    try {
      config.load(parsed.value as object);
    } catch (err) {
      throw new ConfigError(`${opts.file}: ${(err as Error).message}`);
    }
  }
  if (opts.overrides) {
    for (const [k, v] of Object.entries(opts.overrides)) {
      try {
        config.set(k as never, v as never);
      } catch (err) {
        throw new ConfigError(`${k}: ${(err as Error).message}`);
      }
    }
  }
  const where = (path: ReadonlyArray<string | number>): string => {
    const line = parsed && opts.file ? parsed.lineOf(path) : null;
    return line !== null && opts.file ? `${opts.file}:${line}: ` : '';
  };
  const out: string[] = [];
  const reported = new Set<string>();
  try {
    config.validate({ allowed: 'strict' });
  } catch (err) {
    for (const l of (err as Error).message.split('\n')) {
      if (l.trim() === '') continue;
      const key = keyOf(l);
      if (key) reported.add(key);
      out.push(`${where(key ? key.split('.') : [])}${describe(l)}`);
    }
  }
  // Checks of structured values, on the keys convict found well-formed: their errors point at the
  // entry inside the value (filter.rules[1].match.exitCode), its value and its own line.
  for (const { key, leaf } of leaves(sections as never)) {
    if (!leaf.check || reported.has(key)) continue;
    try {
      leaf.check(config.get(key as never));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const at = err.detail?.at ?? [];
      const path = [...key.split('.'), ...at];
      out.push(
        `${where(path)}${joinPath(key, at)}: ${err.detail ? `${err.detail.problem}${describeValue(err.detail.value)}` : err.message}`,
      );
    }
  }
  if (out.length > 0) throw new ConfigError(out.join('\n'));
  return config.getProperties();
}

/** Every CLI flag the schema declares (without the leading dashes). */
export function schemaFlags(): string[] {
  const out: string[] = [];
  const walk = (node: Record<string, unknown>): void => {
    for (const v of Object.values(node)) {
      if (v && typeof v === 'object' && 'doc' in v) {
        const arg = (v as { arg?: string }).arg;
        if (arg) out.push(arg);
      } else if (v && typeof v === 'object') walk(v as Record<string, unknown>);
    }
  };
  walk(schema as unknown as Record<string, unknown>);
  return out;
}

/** Reads a file's contents once for --check-config without applying env or flags. */
export function checkConfigFile(file: string): AgentConfig {
  return loadConfig({ file, env: {}, args: [] });
}

/** The config with every value the schema marks sensitive replaced, for printing. */
export function maskSecrets(config: AgentConfig): AgentConfig {
  const out = structuredClone(config) as unknown as Record<string, Record<string, unknown>>;
  const walk = (node: Record<string, unknown>, target: Record<string, unknown>): void => {
    for (const [k, v] of Object.entries(node)) {
      if (v && typeof v === 'object' && 'doc' in v) {
        if ((v as { sensitive?: boolean }).sensitive && target[k] !== '' && target[k] !== undefined) target[k] = '<redacted>';
      } else if (v && typeof v === 'object' && target[k] && typeof target[k] === 'object') {
        walk(v as Record<string, unknown>, target[k] as Record<string, unknown>);
      }
    }
  };
  walk(schema as unknown as Record<string, unknown>, out);
  return out as unknown as AgentConfig;
}
