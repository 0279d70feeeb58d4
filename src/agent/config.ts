/**
 * The agent's own log (log.*).
 */

import { oneOf } from '../config/formats.js';
import type { ConfigSection } from '../config/section.js';
import { LOG_LEVELS, type LogLevel } from '../util/log.js';

export interface LogConfig {
  level: LogLevel;
}

export const logSection: ConfigSection<LogConfig> = {
  reload: 'live',
  keys: {
    level: {
      doc: "The agent's own log on stderr.",
      format: oneOf('log-level', LOG_LEVELS),
      default: 'info',
      env: 'CNPROC_OTEL_LOG_LEVEL',
      arg: 'log-level',
    },
  },
};
