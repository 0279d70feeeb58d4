/**
 * Command-line parsing. The CLI's own flags are handled here; every other flag must be one the
 * config schema declares (passed on to convict). Anything else is a usage error, so a typo never
 * silently falls back to a default.
 */
import { schemaFlags } from '../config/load.js';

export interface CliArgs {
  help: boolean;
  version: boolean;
  printConfig: boolean;
  configFile?: string;
  checkConfig?: string;
  /** Flags for the config schema, unchanged. */
  schemaArgs: string[];
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const OWN_WITH_VALUE = new Set(['config', 'c', 'check-config']);
const OWN_SWITCHES = new Set(['help', 'h', 'version', 'V', 'print-config']);

export function parseCliArgs(argv: readonly string[]): CliArgs {
  const known = new Set(schemaFlags());
  const out: CliArgs = { help: false, version: false, printConfig: false, schemaArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i] as string;
    if (!tok.startsWith('-') || tok === '-') throw new UsageError(`unexpected argument '${tok}'`);
    const body = tok.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (OWN_SWITCHES.has(name)) {
      if (inline !== undefined) throw new UsageError(`option --${name} takes no value`);
      if (name === 'help' || name === 'h') out.help = true;
      else if (name === 'version' || name === 'V') out.version = true;
      else out.printConfig = true;
    } else if (OWN_WITH_VALUE.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') throw new UsageError(`option --${name} needs a file path`);
      if (name === 'check-config') out.checkConfig = value;
      else out.configFile = value;
    } else if (known.has(name)) {
      out.schemaArgs.push(tok);
      const next = argv[i + 1];
      if (inline === undefined && next !== undefined && !next.startsWith('--')) {
        out.schemaArgs.push(next);
        i++;
      }
    } else {
      throw new UsageError(`unknown option '${tok}' (see --help)`);
    }
  }
  return out;
}

export function usage(): string {
  return `Usage: cnproc-otel [options]

Streams Linux process events (fork, exec, exit, uid, gid, sid, ptrace, comm, coredump) from the
kernel's proc connector as OpenTelemetry log records: to the terminal, or over OTLP/HTTP to a
collector. Standard OTEL_EXPORTER_OTLP_* and OTEL_RESOURCE_ATTRIBUTES variables are honoured.
Needs root (or CAP_NET_ADMIN on kernels before 6.6).

Options:
  -c, --config FILE          configuration file (YAML or JSON)
      --check-config FILE    validate FILE and exit (0 valid, 78 invalid)
      --print-config         print the effective configuration and exit
      --exporter KINDS       auto | console | otlp | console,otlp (auto: otlp when an endpoint is set)
      --otlp-endpoint URL    OTLP/HTTP base URL (/v1/logs is appended), e.g. http://127.0.0.1:4318
      --otlp-protocol P      http/protobuf | http/json
      --console-format FMT   auto | pretty | json (auto: pretty on a terminal, else json)
      --events LIST          comma-separated types: ${'fork,exec,uid,gid,sid,ptrace,comm,coredump,exit'}
      --exit-nonzero-only    report only exits with a non-zero status
      --threads BOOL         report thread creation and exit (default true)
      --receive-buffer SIZE  socket receive buffer, e.g. 64MiB
      --enrich BOOL          read /proc for process context (default true)
      --traces BOOL          also export process lifetimes as spans (docs/traces.md)
      --spool-dir DIR        disk spool for OTLP batches (default /var/lib/cnproc-otel/spool)
      --spool BOOL           false: keep undelivered batches in memory only (diskless hosts)
      --metrics-port PORT    Prometheus /metrics, /healthz, /readyz on 127.0.0.1 (default 9464)
      --log-level LEVEL      error | warn | info | debug
      --report-file FILE     at stop, also write the stop summary as JSON to FILE
  -V, --version              print the version and exit
  -h, --help                 print this help and exit

Exit codes: 0 stopped cleanly, 64 bad option, 69 process events unavailable here,
70 internal error, 77 permission denied, 78 bad configuration (or unusable spool directory).
`;
}
