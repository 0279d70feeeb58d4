/**
 * Redaction of secrets in argv and command lines (on by default).
 *
 * Command lines leak credentials: people type `mysql -pS3cret`, scripts pass tokens in flags and
 * URLs, containers start with `-e DB_PASSWORD=…`. Exec events copy argv into log records that end up
 * in a shared backend, so the agent replaces the secret part of an argument by a marker
 * (`<redacted>` by default) before the record leaves the process. Only the secret itself is
 * replaced: flag names, key names, user names, hosts and everything else stay byte for byte, so
 * the record still says what ran (`--password=<redacted>`, `https://deploy:<redacted>@host/`).
 *
 * Built-in rules (names of keys, flags and headers compare ignoring case unless stated; command
 * words compare exactly):
 *
 * 1. **Secret names.** A name is secret when, after leading dashes, it ends with `password`,
 *    `passwd`, `passphrase`, `secret`, `token`, `apikey`, `api_key`, `api-key`, `secret_key`,
 *    `secretkey`, `private_key`, `privatekey`, `access_key`, `accesskey` (also with `-`),
 *    `storepass`, `keypass`, `passin`, `passout`, `signature` or `authorization`, or ends with the
 *    whole word `pass`, `pwd`, `auth`, `bearer` or `sig` (`--pass`, `MYSQL_PWD`, `basic_auth`,
 *    `basicAuth`, `&sig=`; not `bypass`, `oauth`, `PWD`, `SSH_ASKPASS`). An environment-style name (only `A-Z`, `0-9`,
 *    `_`) is also secret when it contains `PASSWORD`, `PASSWD`, `PASSPHRASE`, `SECRET`, `TOKEN`,
 *    `APIKEY`, `API_KEY`, `PRIVATE_KEY` or `ACCESS_KEY`, or ends with `_KEY` — unless it ends with
 *    `_FILE`, `_PATH` or `_DIR`, which name a location, not a secret (`DB_PASSWORD_FILE`).
 * 2. **`name=value`** anywhere in an argument, for a secret name: `--password=…`, `PGPASSWORD=…`,
 *    `-Djavax.net.ssl.keyStorePassword=…`, `?access_token=…&page=2`, `--from-literal=password=…`.
 *    The value ends at whitespace or a quote; a value in quotes ends at the closing quote; a key
 *    that follows `?` or `&` also ends at `&` or `#`, one that follows `;` or `,` at that separator.
 * 3. **`--name value`**: a flag with a secret name and no `=` hides the next argument
 *    (`--password S3cret`, `--token …`, `-storepass …`, `-passout pass:…`, `--oauth2-bearer …`). The
 *    next argument is left alone when it starts with `-`, and switch-like flags whose first word is
 *    `no`, `ask`, `prompt`, `skip`, `disable`, `enable`, `require`, `allow`, `without`, `use`,
 *    `show`, `print`, `check`, `verify`, `generate`, `save` or `read` take no value
 *    (`--ask-become-pass`, `--no-password`).
 * 4. **Tools where a short flag is a password.** After the command word (its base name, anywhere in
 *    argv, so `sudo` or `docker exec … mysql` work): `mysql`, `mysqldump`, `mysqladmin`, `mariadb`
 *    and their siblings: `-pVALUE` (a bare `-p` prompts, so the next argument stays);
 *    `sshpass -p VALUE` or `-pVALUE` (up to the wrapped command); `docker|podman|nerdctl|buildah|
 *    skopeo|helm|oras|oc|cf|az … login -p VALUE`; `mongo`, `mongosh` and the mongo tools
 *    `-p VALUE`; `redis-cli -a VALUE`; `sqlcmd|bcp -P VALUE`; `curl -u|-U|--user|--proxy-user
 *    user:VALUE` (the user stays). `-p` of any other tool (`ssh -p 22`, `mkdir -p`, `cp -p`,
 *    `docker run -p`) is not touched.
 * 5. **`config set NAME VALUE`** (`aws configure set aws_secret_access_key …`,
 *    `npm config set //registry/:_authToken …`): the value after a secret name.
 * 6. **URL credentials**: `scheme://user:VALUE@host` (the user stays; `redis://:VALUE@host` too).
 * 7. **Headers**: `Authorization:` and `Proxy-Authorization:` (a known scheme such as `Basic`,
 *    `Bearer` or `token` stays in front), `Api-Key:`, and names ending in `-Token`, `-Secret`,
 *    `-Password` or `-Api-Key` (`X-Auth-Token:`, `PRIVATE-TOKEN:`, `X-Api-Key:`): the credential,
 *    up to whitespace or a quote.
 * 8. **JSON** `"name": "VALUE"` for a secret name (a GCP service-account key's `private_key`).
 * 9. **PEM private keys**: the body between `-----BEGIN … PRIVATE KEY-----` and its `END` line (or
 *    the end of the argument when it was cut).
 * 10. **Key shapes**, wherever they appear, whole: AWS access key ids (`AKIA`, `ASIA`, `ABIA`,
 *    `ACCA` + 16 of `A-Z0-9`), GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`),
 *    GitLab (`glpat-`, `glptt-`, `gldt-`, `glrt-`), Slack (`xoxb-`, `xoxa-`, `xoxp-`, `xoxr-`,
 *    `xoxs-`), Google API keys (`AIza` + 35), JWTs (`eyJ….eyJ….sig`), Stripe (`sk_live_`, `rk_live_`,
 *    `sk_test_`, `rk_test_`), npm (`npm_`), HashiCorp Vault (`hvs.`, `hvb.`, `hvr.`) and
 *    OpenAI/Anthropic-style `sk-…` keys. A shape counts only where a word starts (not after a
 *    letter, digit, `_` or `-`).
 *
 * `redactArgv` applies the rules per argument and knows argument boundaries; an argument that
 * contains whitespace (`sh -c "mysql -pX db"`) is also read as a command line of its own for rules
 * 3–5. `redactCommandLine` applies them to one string: it splits on whitespace (a `'…'` or `"…"`
 * section is one word, and a quoted value keeps its quotes) and forgets the command word at `;`,
 * `|` and `&`.
 *
 * User patterns (`extraPatterns`) are JavaScript regular expression sources, run on every argument
 * (or the whole line) after the built-in rules. A pattern with a capture group named `secret` hides
 * only that group; without one, the whole match. A leading `(?i)` makes it ignore case. A pattern
 * that does not compile is a configuration error.
 *
 * This runs per exec event. Built-in rules start with one character scan per argument; an
 * argument without `=`, `:`, `@`, `"`, whitespace, a leading `-`, a tool name or a key prefix
 * runs no regular expression. When nothing is redacted, the input array itself is returned.
 */

import { ConfigError } from '../config/errors.js';

export const DEFAULT_REDACTION_MARKER = '<redacted>';

export interface RedactorOptions {
  /** Default true. When false, every call returns its input unchanged. */
  enabled?: boolean;
  /** What replaces a secret. Default `<redacted>`. */
  marker?: string;
  /** Regular expression sources; see the module comment. */
  extraPatterns?: readonly string[];
}

export interface RedactedArgv {
  /** The input array itself when `redacted` is false, else a copy. */
  argv: string[];
  redacted: boolean;
}

export interface RedactedLine {
  line: string;
  redacted: boolean;
}

// What the next word is, after a flag that takes a secret value.
const P_NONE = 0;
const P_WHOLE = 1;
/** `user:secret`: only what follows the first `:` (curl `-u`). */
const P_USERPASS = 2;

// Command words whose short flags carry a password.
const T_NONE = 0;
const T_MYSQL = 1;
const T_SSHPASS = 2;
/** A tool whose `login` subcommand takes `-p PASSWORD`; waiting for `login`. */
const T_LOGIN_PARENT = 3;
const T_LOGIN = 4;
const T_MONGO = 5;
const T_REDIS = 6;
const T_SQLCMD = 7;
const T_CURL = 8;

const TOOL_KINDS: ReadonlyArray<readonly [number, readonly string[]]> = [
  [
    T_MYSQL,
    [
      'mysql',
      'mysqldump',
      'mysqladmin',
      'mysqlimport',
      'mysqlcheck',
      'mysqlshow',
      'mysqlpump',
      'mariadb',
      'mariadb-dump',
      'mariadb-admin',
      'mariadb-import',
      'mariadb-check',
      'mariadb-show',
    ],
  ],
  [T_SSHPASS, ['sshpass']],
  [T_LOGIN_PARENT, ['docker', 'podman', 'nerdctl', 'buildah', 'skopeo', 'helm', 'oras', 'oc', 'cf', 'az']],
  [T_MONGO, ['mongo', 'mongosh', 'mongodump', 'mongorestore', 'mongoexport', 'mongoimport', 'mongostat', 'mongotop', 'mongofiles']],
  [T_REDIS, ['redis-cli']],
  [T_SQLCMD, ['sqlcmd', 'bcp']],
  [T_CURL, ['curl']],
  // Common commands whose -p is not a password: seeing one ends the previous tool's rules.
  [T_NONE, ['ssh', 'scp', 'sftp', 'rsync', 'psql', 'pg_dump', 'pg_dumpall', 'pg_restore', 'mkdir', 'cp', 'install', 'nc', 'ncat']],
];

/** Tool names by length, so a lookup compares a few strings in place and allocates nothing. */
const TOOLS_BY_LENGTH: Array<Array<readonly [string, number]> | undefined> = [];
for (const [kind, names] of TOOL_KINDS) {
  for (const name of names) {
    let bucket = TOOLS_BY_LENGTH[name.length];
    if (bucket === undefined) {
      bucket = [];
      TOOLS_BY_LENGTH[name.length] = bucket;
    }
    bucket.push([name, kind]);
  }
}

/** Lower-case; compared at the end of a name. */
const NAME_SUFFIXES = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'api_key',
  'api-key',
  'secretkey',
  'secret_key',
  'secret-key',
  'privatekey',
  'private_key',
  'private-key',
  'accesskey',
  'access_key',
  'access-key',
  'storepass',
  'keypass',
  'passin',
  'passout',
  'signature',
  'authorization',
];
/** Lower-case; must be the whole name or follow `-`, `_`, `.` or a camelCase boundary. */
const NAME_WORDS = ['pass', 'pwd', 'auth', 'bearer', 'sig'];
/** Upper-case; contained in an environment-style name. */
const ENV_WORDS = ['PASSWORD', 'PASSWD', 'PASSPHRASE', 'SECRET', 'TOKEN', 'APIKEY', 'API_KEY', 'PRIVATE_KEY', 'ACCESS_KEY'];
const ENV_LOCATIONS = ['_FILE', '_PATH', '_DIR'];
/** First word of a flag that is a switch, not an option with a value. */
const SWITCH_WORDS = [
  'no',
  'ask',
  'prompt',
  'skip',
  'disable',
  'enable',
  'require',
  'allow',
  'without',
  'use',
  'show',
  'print',
  'check',
  'verify',
  'generate',
  'save',
  'read',
];

const URL_CREDENTIALS = /:\/\/[^\s:@/?#'"]*:([^\s@/?#'"]+)@/g;
/** Authorization schemes that stay in front of the credential. */
const AUTH_SCHEMES = [
  'basic',
  'bearer',
  'token',
  'digest',
  'negotiate',
  'ntlm',
  'apikey',
  'bot',
  'otp',
  'sso-key',
  'dpop',
  'hmac',
  'jwt',
  'oauth',
  'key',
];
/** Header names (lower-case endings) whose value is a credential. */
const HEADER_SUFFIXES = ['authorization', '-token', '-secret', '-password', '-api-key', '-apikey'];
const JSON_PAIR = /"([A-Za-z0-9_.-]{1,64})"\s*:\s*"((?:[^"\\]|\\.)*)"/g;
const PEM_PRIVATE_KEY =
  /(-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)([\s\S]*?)(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/g;
const KEY_SHAPES = new RegExp(
  [
    // Only at the start of a run of key characters: every alternative then scans a run once.
    '(?<![A-Za-z0-9_-])(?:',
    '(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])',
    '|gh[pousr]_[A-Za-z0-9]{30,}',
    '|github_pat_[A-Za-z0-9_]{22,}',
    '|gl(?:pat|ptt|dt|rt)-[A-Za-z0-9_-]{20,}',
    '|xox[baprs]-[A-Za-z0-9-]{10,}',
    '|AIza[0-9A-Za-z_-]{35}',
    '|eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*',
    '|[rs]k_(?:live|test)_[0-9A-Za-z]{10,}',
    '|npm_[A-Za-z0-9]{36}',
    '|hv[sbr]\\.[A-Za-z0-9_-]{24,}',
    '|sk-(?:(?:proj|ant|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{40,})',
    ')',
  ].join(''),
  'g',
);

// What the cheap scan found in an argument; each bit enables some rules.
const F_EQ = 1;
const F_COLON = 2;
const F_AT = 4;
const F_QUOTE = 8;
const F_PEM = 16;
const F_SHAPE = 32;
const F_SPACE = 64;

/** The longest key scanned back from `=` or `:`; longer runs are data, not names. */
const MAX_KEY = 100;

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function isKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
}

function isHeaderChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45;
}

function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

/** Index of the char code c in s[a, b), or -1 (indexOf would search past b, to the end of a line). */
function indexIn(s: string, c: number, a: number, b: number): number {
  for (let i = a; i < b; i++) if (s.charCodeAt(i) === c) return i;
  return -1;
}

/** s[a, b) equals `w` exactly. */
function equalsAt(s: string, a: number, b: number, w: string): boolean {
  return b - a === w.length && s.startsWith(w, a);
}

/** s[a, b) ends with the lower-case `w`, ignoring case. */
function endsWithLower(s: string, a: number, b: number, w: string): boolean {
  const start = b - w.length;
  if (start < a) return false;
  for (let k = 0; k < w.length; k++) {
    let c = s.charCodeAt(start + k);
    if (isUpper(c)) c += 32;
    if (c !== w.charCodeAt(k)) return false;
  }
  return true;
}

function includesAt(s: string, a: number, b: number, w: string): boolean {
  for (let i = a; i + w.length <= b; i++) if (s.startsWith(w, i)) return true;
  return false;
}

function isEnvName(s: string, a: number, b: number): boolean {
  let letter = false;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (isUpper(c)) letter = true;
    else if (c !== 95 && (c < 48 || c > 57)) return false;
  }
  return letter;
}

/** Rule 1 of the module comment, for the name s[a, b). */
function isSecretName(s: string, a: number, b: number): boolean {
  while (a < b && s.charCodeAt(a) === 45) a++;
  if (b - a < 3) return false;
  if (isEnvName(s, a, b)) {
    for (const w of ENV_LOCATIONS) if (b - a > w.length && s.endsWith(w, b)) return false;
    for (const w of ENV_WORDS) if (includesAt(s, a, b, w)) return true;
    if (b - a > 4 && s.endsWith('_KEY', b)) return true;
  }
  for (const w of NAME_SUFFIXES) if (endsWithLower(s, a, b, w)) return true;
  for (const w of NAME_WORDS) {
    if (!endsWithLower(s, a, b, w)) continue;
    const start = b - w.length;
    if (start === a) return w !== 'pwd';
    const prev = s.charCodeAt(start - 1);
    if (prev === 45 || prev === 95 || prev === 46) return true;
    const camel = ((prev >= 97 && prev <= 122) || (prev >= 48 && prev <= 57)) && isUpper(s.charCodeAt(start));
    if (camel) return true;
  }
  return false;
}

/** Rule 3: a flag s[a, b) (dashes included, no `=`) whose next argument is a secret. */
function isSecretFlag(s: string, a: number, b: number): boolean {
  while (a < b && s.charCodeAt(a) === 45) a++;
  let end = a;
  while (end < b) {
    const c = s.charCodeAt(end);
    if (c === 45 || c === 95) break;
    end++;
  }
  if (end < b) {
    for (const w of SWITCH_WORDS) if (endsWithLower(s, a, end, w) && end - a === w.length) return false;
  }
  return isSecretName(s, a, b);
}

function isSecretHeader(s: string, a: number, b: number): boolean {
  for (const w of HEADER_SUFFIXES) if (endsWithLower(s, a, b, w)) return true;
  while (a < b && s.charCodeAt(a) === 45) a++;
  return (b - a === 7 && endsWithLower(s, a, b, 'api-key')) || (b - a === 6 && endsWithLower(s, a, b, 'apikey'));
}

function isScheme(s: string, a: number, b: number): boolean {
  for (const w of AUTH_SCHEMES) if (b - a === w.length && endsWithLower(s, a, b, w)) return true;
  return false;
}

/** End of the word at i: the next whitespace or quote. */
function wordEnd(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (isSpace(c) || c === 34 || c === 39) break;
    i++;
  }
  return i;
}

function toolKind(s: string, a: number, b: number): number {
  let start = b;
  while (start > a && s.charCodeAt(start - 1) !== 47) start--;
  const bucket = TOOLS_BY_LENGTH[b - start];
  if (bucket === undefined) return -1;
  for (const [name, kind] of bucket) if (s.startsWith(name, start)) return kind;
  return -1;
}

/** The short flag (char code) whose value is a password for a tool kind, or 0. */
function passwordFlag(kind: number): number {
  switch (kind) {
    case T_MYSQL:
    case T_SSHPASS:
    case T_LOGIN:
    case T_MONGO:
      return 112; // p
    case T_REDIS:
      return 97; // a
    case T_SQLCMD:
      return 80; // P
    case T_CURL:
      return 117; // u (and U)
    default:
      return 0;
  }
}

/** Whether the tool's password flag accepts the value in the next argument. */
function takesSeparateValue(kind: number): boolean {
  return kind !== T_MYSQL;
}

/** Whether the tool's password flag accepts the value attached (`-pVALUE`). */
function takesAttachedValue(kind: number): boolean {
  return kind !== T_REDIS;
}

/** Whether a key prefix of rule 10 starts at i (c = the char there). Cheap, may say yes wrongly. */
function shapeAt(s: string, i: number, c: number): boolean {
  const d = s.charCodeAt(i + 1);
  switch (c) {
    case 65: // A: AKIA ASIA ABIA ACCA AIza
      return d === 75 || d === 83 || d === 66 || d === 67 || d === 73;
    case 103: // g: gh?_ github_pat_ gl...-
      return d === 104 || d === 108 || d === 105;
    case 120: // x: xox
      return d === 111;
    case 101: // e: eyJ
      return d === 121 && s.charCodeAt(i + 2) === 74;
    case 115: // s: sk_ sk-
    case 114: // r: rk_
      return d === 107;
    case 110: // n: npm_
      return d === 112 && s.charCodeAt(i + 3) === 95;
    case 104: // h: hvs. hvb. hvr.
      return d === 118 && s.charCodeAt(i + 3) === 46;
    default:
      return false;
  }
}

/** One pass over s: which rules can possibly match. */
function triggers(s: string): number {
  let mask = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 61:
        mask |= F_EQ;
        break;
      case 58:
        mask |= F_COLON;
        break;
      case 64:
        mask |= F_AT;
        break;
      case 34:
        mask |= F_QUOTE;
        break;
      case 45:
        if (s.startsWith('-----BEGIN', i)) mask |= F_PEM;
        break;
      case 32:
      case 9:
      case 10:
      case 11:
      case 12:
      case 13:
        mask |= F_SPACE;
        break;
      default:
        if (shapeAt(s, i, c)) mask |= F_SHAPE;
    }
  }
  return mask;
}

/** Sorts start/end pairs by start, for the rare string with many secrets. */
function sortPairs(sp: number[]): void {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < sp.length; i += 2) pairs.push([sp[i] as number, sp[i + 1] as number]);
  pairs.sort((x, y) => x[0] - y[0]);
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i] as [number, number];
    sp[2 * i] = p[0];
    sp[2 * i + 1] = p[1];
  }
}

/** Per-command-line state of rules 3–5. */
class WordState {
  pending = P_NONE;
  tool = T_NONE;
  /** 1: the previous word was `config`/`configure`; 2: after `config set`, looking for a secret name. */
  config = 0;

  reset(): void {
    this.pending = P_NONE;
    this.tool = T_NONE;
    this.config = 0;
  }
}

interface UserPattern {
  re: RegExp;
  hasSecretGroup: boolean;
}

export class Redactor {
  readonly enabled: boolean;
  readonly marker: string;
  private readonly user: UserPattern[] = [];
  /** Secret ranges found in the current string, as start/end pairs; reused across calls. */
  private readonly spans: number[] = [];
  private readonly outer = new WordState();
  private readonly inner = new WordState();

  constructor(options: RedactorOptions = {}) {
    this.enabled = options.enabled ?? true;
    this.marker = options.marker ?? DEFAULT_REDACTION_MARKER;
    for (const source of options.extraPatterns ?? []) {
      let body = source;
      let flags = 'gd';
      if (body.startsWith('(?i)')) {
        body = body.slice(4);
        flags += 'i';
      }
      if (body === '') throw new ConfigError(`redaction pattern ${JSON.stringify(source)} is empty`);
      let re: RegExp;
      try {
        re = new RegExp(body, flags);
      } catch (err) {
        throw new ConfigError(`redaction pattern ${JSON.stringify(source)} is not a valid regular expression: ${(err as Error).message}`);
      }
      this.user.push({ re, hasSecretGroup: body.includes('(?<secret>') });
    }
  }

  /** Redacts each argument; argument boundaries matter for flags whose value is the next one. */
  redactArgv(argv: readonly string[]): RedactedArgv {
    if (!this.enabled) return { argv: argv as string[], redacted: false };
    const st = this.outer;
    st.reset();
    let out: string[] | undefined;
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i] as string;
      this.spans.length = 0;
      if (!this.word(arg, 0, arg.length, st)) {
        const mask = triggers(arg);
        if ((mask & F_SPACE) !== 0) {
          this.inner.reset();
          this.words(arg, this.inner);
        }
        if (mask !== 0 || this.user.length > 0) this.content(arg, mask);
      }
      if (this.spans.length > 0) {
        if (out === undefined) out = argv.slice();
        out[i] = this.apply(arg);
      }
    }
    return out === undefined ? { argv: argv as string[], redacted: false } : { argv: out, redacted: true };
  }

  /** Redacts one command line (argv joined by spaces, or as typed). */
  redactCommandLine(line: string): RedactedLine {
    if (!this.enabled) return { line, redacted: false };
    this.spans.length = 0;
    this.outer.reset();
    this.words(line, this.outer);
    const mask = triggers(line);
    if (mask !== 0 || this.user.length > 0) this.content(line, mask);
    return this.spans.length === 0 ? { line, redacted: false } : { line: this.apply(line), redacted: true };
  }

  private push(start: number, end: number): void {
    if (end > start) this.spans.push(start, end);
  }

  /** Marks s[a, b) as secret; quotes around it stay; P_USERPASS keeps what precedes the first `:`. */
  private value(s: string, a: number, b: number, mode: number): void {
    if (b - a >= 2) {
      const q = s.charCodeAt(a);
      if ((q === 39 || q === 34) && s.charCodeAt(b - 1) === q) {
        a++;
        b--;
      }
    }
    if (mode === P_USERPASS) {
      const colon = indexIn(s, 58, a, b);
      if (colon === -1) return;
      a = colon + 1;
    }
    this.push(a, b);
  }

  /** Splits s into words (rules 3–5), a quoted section being part of one word. */
  private words(s: string, st: WordState): void {
    const n = s.length;
    let i = 0;
    while (i < n) {
      if (isSpace(s.charCodeAt(i))) {
        i++;
        continue;
      }
      const a = i;
      while (i < n) {
        const c = s.charCodeAt(i);
        if (isSpace(c)) break;
        if (c === 39 || c === 34) {
          const close = s.indexOf(c === 39 ? "'" : '"', i + 1);
          if (close !== -1) {
            i = close + 1;
            continue;
          }
        }
        i++;
      }
      this.word(s, a, i, st);
      const last = s.charCodeAt(i - 1);
      if (last === 59 || last === 124 || last === 38 || (i - a === 1 && (last === 40 || last === 41))) st.reset();
    }
  }

  /**
   * Rules 3–5 for the word s[a, b). Returns true when the whole word was a flag's secret value
   * (nothing else to look for in it).
   */
  private word(s: string, a: number, b: number, st: WordState): boolean {
    if (b - a >= 2) {
      const q = s.charCodeAt(a);
      if ((q === 39 || q === 34) && s.charCodeAt(b - 1) === q) {
        a++;
        b--;
      }
    }
    if (a >= b) return false;
    const isFlag = s.charCodeAt(a) === 45 && b - a > 1;
    if (st.pending !== P_NONE) {
      const mode = st.pending;
      st.pending = P_NONE;
      if (!isFlag) {
        this.value(s, a, b, mode);
        return mode === P_WHOLE;
      }
    }

    if (!isFlag) {
      const kind = toolKind(s, a, b);
      if (kind >= 0) st.tool = kind;
      else if (st.tool === T_SSHPASS) st.tool = T_NONE;
      else if (st.tool === T_LOGIN_PARENT && equalsAt(s, a, b, 'login')) st.tool = T_LOGIN;
      if (st.config === 2) {
        if (isSecretName(s, a, b)) {
          st.pending = P_WHOLE;
          st.config = 0;
        }
      } else if (st.config === 1 && equalsAt(s, a, b, 'set')) st.config = 2;
      else st.config = equalsAt(s, a, b, 'config') || equalsAt(s, a, b, 'configure') ? 1 : 0;
      return false;
    }

    const kind = st.tool;
    const c1 = s.charCodeAt(a + 1);
    if (c1 !== 45) {
      const f = passwordFlag(kind);
      if (f !== 0 && (c1 === f || (kind === T_CURL && c1 === 85))) {
        const mode = kind === T_CURL ? P_USERPASS : P_WHOLE;
        if (b - a === 2) {
          if (takesSeparateValue(kind)) st.pending = mode;
        } else if (takesAttachedValue(kind)) this.value(s, a + 2, b, mode);
        return false;
      }
    }
    const eq = indexIn(s, 61, a, b);
    if (kind === T_CURL && c1 === 45) {
      const nameEnd = eq === -1 ? b : eq;
      if (equalsAt(s, a, nameEnd, '--user') || equalsAt(s, a, nameEnd, '--proxy-user')) {
        if (eq === -1) st.pending = P_USERPASS;
        else this.value(s, eq + 1, b, P_USERPASS);
        return false;
      }
    }
    if (eq === -1 && isSecretFlag(s, a, b)) st.pending = P_WHOLE;
    return false;
  }

  /** Rules 2 and 6–10 and the user patterns, on a whole argument or line. */
  private content(s: string, mask: number): void {
    if ((mask & F_EQ) !== 0) this.keyValues(s);
    if ((mask & (F_QUOTE | F_COLON)) === (F_QUOTE | F_COLON)) this.jsonPairs(s);
    if ((mask & (F_COLON | F_AT)) === (F_COLON | F_AT)) this.urlCredentials(s);
    if ((mask & F_COLON) !== 0) this.headers(s);
    if ((mask & F_PEM) !== 0) this.pemBodies(s);
    if ((mask & F_SHAPE) !== 0) this.wholeMatches(s, KEY_SHAPES);
    for (const u of this.user) this.userPattern(s, u);
  }

  /** Rule 2. */
  private keyValues(s: string): void {
    const n = s.length;
    let i = s.indexOf('=');
    while (i !== -1) {
      let k = i;
      while (k > 0 && i - k < MAX_KEY && isKeyChar(s.charCodeAt(k - 1))) k--;
      let next = i + 1;
      if (k < i && (k === 0 || !isKeyChar(s.charCodeAt(k - 1))) && isSecretName(s, k, i)) {
        const ctx = k > 0 ? s.charCodeAt(k - 1) : -1;
        let vs = i + 1;
        let ve = -1;
        const q = s.charCodeAt(vs);
        if (q === 39 || q === 34) {
          const close = s.indexOf(q === 39 ? "'" : '"', vs + 1);
          if (close !== -1) {
            vs++;
            ve = close;
          }
        }
        if (ve === -1) {
          ve = vs;
          while (ve < n) {
            const c = s.charCodeAt(ve);
            if (isSpace(c) || c === 34 || c === 39) break;
            if ((ctx === 63 || ctx === 38) && (c === 38 || c === 35)) break;
            if ((ctx === 59 || ctx === 44) && c === ctx) break;
            ve++;
          }
        }
        this.push(vs, ve);
        if (ve > next) next = ve;
      }
      i = s.indexOf('=', next);
    }
  }

  /** Rule 7: `Name: [scheme ]credential` for a credential header name. */
  private headers(s: string): void {
    const n = s.length;
    let i = s.indexOf(':');
    while (i !== -1) {
      let k = i;
      while (k > 0 && i - k < MAX_KEY && isHeaderChar(s.charCodeAt(k - 1))) k--;
      let next = i + 1;
      if (k < i && (k === 0 || !isHeaderChar(s.charCodeAt(k - 1))) && isSecretHeader(s, k, i)) {
        let vs = i + 1;
        while (vs < n && isSpace(s.charCodeAt(vs))) vs++;
        let ve = wordEnd(s, vs);
        if (endsWithLower(s, k, i, 'authorization') && ve < n && isSpace(s.charCodeAt(ve)) && isScheme(s, vs, ve)) {
          vs = ve;
          while (vs < n && isSpace(s.charCodeAt(vs))) vs++;
          ve = wordEnd(s, vs);
        }
        this.push(vs, ve);
        if (ve > next) next = ve;
      }
      i = s.indexOf(':', next);
    }
  }

  /** Rule 8. */
  private jsonPairs(s: string): void {
    const re = JSON_PAIR;
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      const key = m[1] as string;
      if (!isSecretName(s, m.index + 1, m.index + 1 + key.length)) continue;
      const end = m.index + m[0].length - 1;
      this.push(end - (m[2] as string).length, end);
    }
  }

  /** Rule 6: the password is group 1, just before the `@` that ends the match. */
  private urlCredentials(s: string): void {
    const re = URL_CREDENTIALS;
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      const end = m.index + m[0].length - 1;
      this.push(end - (m[1] as string).length, end);
    }
  }

  /** Rule 9. */
  private pemBodies(s: string): void {
    const re = PEM_PRIVATE_KEY;
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      const start = m.index + (m[1] as string).length;
      this.push(start, start + (m[2] as string).length);
    }
  }

  /** Rule 10. */
  private wholeMatches(s: string, re: RegExp): void {
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) this.push(m.index, m.index + m[0].length);
  }

  private userPattern(s: string, u: UserPattern): void {
    const re = u.re;
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      if (!u.hasSecretGroup) this.push(m.index, m.index + m[0].length);
      else {
        const r = m.indices?.groups?.secret;
        if (r !== undefined) this.push(r[0], r[1]);
      }
    }
  }

  /** s with every span (merged where they overlap or touch) replaced by the marker. */
  private apply(s: string): string {
    const sp = this.spans;
    const n = sp.length;
    if (n > 64) sortPairs(sp);
    else {
      // Insertion sort: a handful of spans, mostly in order already.
      for (let i = 2; i < n; i += 2) {
        const a = sp[i] as number;
        const b = sp[i + 1] as number;
        let j = i - 2;
        while (j >= 0 && (sp[j] as number) > a) {
          sp[j + 2] = sp[j] as number;
          sp[j + 3] = sp[j + 1] as number;
          j -= 2;
        }
        sp[j + 2] = a;
        sp[j + 3] = b;
      }
    }
    let out = '';
    let pos = 0;
    let i = 0;
    while (i < n) {
      const a = sp[i] as number;
      let b = sp[i + 1] as number;
      i += 2;
      while (i < n && (sp[i] as number) <= b) {
        if ((sp[i + 1] as number) > b) b = sp[i + 1] as number;
        i += 2;
      }
      out += s.slice(pos, a) + this.marker;
      pos = b;
    }
    return out + s.slice(pos);
  }
}
