/**
 * The agent's own diagnostic log: one line per message on stderr, so stdout stays clean for events.
 */

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  /** Changes the level while running (log.level is applied on reload). */
  setLevel(level: LogLevel): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  let max = RANK[level];
  const at =
    (l: LogLevel) =>
    (msg: string): void => {
      if (RANK[l] <= max) write(`cnproc-otel ${l}: ${msg}\n`);
    };
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    setLevel: (l) => {
      max = RANK[l];
    },
  };
}
