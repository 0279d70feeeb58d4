/**
 * The agent's own log (log.*).
 */

import { oneOf } from '../config/formats.js';
import type { ConfigSection } from '../config/section.js';
import { LOG_LEVELS, type LogLevel } from '../util/log.js';

export interface LogConfig {
  level: LogLevel;
  reportFile: string;
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
    reportFile: {
      doc: 'At stop, also write the stop summary as one JSON document to this file (accounting, loss by cause, delivery, exporters, pressure, process table, filter hits; see src/agent/stop-document.ts). Replaced whole at each stop. Empty: none.',
      format: String,
      default: '',
      env: 'CNPROC_OTEL_REPORT_FILE',
      arg: 'report-file',
      reload: 'restart',
    },
  },
};
