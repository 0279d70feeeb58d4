/**
 * The process section (process.*): what the capture thread reads (kernel/config.ts) and the
 * process table.
 */

import { intFormat } from '../config/formats.js';
import type { ConfigSection } from '../config/section.js';
import { type SnapshotConfig, snapshotKeys } from '../kernel/config.js';

export interface ProcessConfig extends SnapshotConfig {
  ancestryDepth: number;
  maxProcesses: number;
}

export const processSection: ConfigSection<ProcessConfig> = {
  reload: 'restart',
  keys: {
    ...snapshotKeys,
    ancestryDepth: {
      doc: 'How many ancestors (parent, grandparent, ...) each record lists by executable.',
      format: intFormat(0, 64),
      default: 4,
    },
    maxProcesses: {
      doc: 'Most processes in the process table; beyond it the least recently seen are evicted (counted).',
      format: intFormat(1024, 4_194_304),
      default: 65_536,
    },
  },
};
