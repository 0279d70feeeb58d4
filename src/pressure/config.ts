/**
 * The pressure section (pressure.*).
 */

import { bytesFormat, intFormat, listOf } from '../config/formats.js';
import type { ConfigSection } from '../config/section.js';
import { EVENT_TYPES, type EventType } from '../kernel/events.js';

export interface PressureConfig {
  memoryLimitBytes: number;
  heapGrowthPercent: number;
  tickMs: number;
  upMs: number;
  downMs: number;
  stormWindowMs: number;
  stormSamples: number;
  dropTypes: EventType[];
  rateLimitPerParentExecutable: number;
  rateLimitPerContainer: number;
  rateLimitPerUser: number;
}

export const pressureSection: ConfigSection<PressureConfig> = {
  reload: 'restart',
  keys: {
    memoryLimitBytes: {
      reload: 'live',
      doc: "Memory ceiling: resident memory (less V8's free heap) near this size counts as full pressure, so the ladder sheds work from half of it, before it is reached.",
      format: bytesFormat(64 * 1_048_576, 64 * 1_073_741_824),
      default: 268_435_456,
      env: 'CNPROC_OTEL_MEMORY_LIMIT',
    },
    heapGrowthPercent: {
      reload: 'live',
      doc: "While memory in use is past half the ceiling, how far the agent's JavaScript heap may grow past what the last full collection left alive, in percent (V8's heap growing factor, held until memory is back under 40 %); below that V8 chooses, up to 4x in a storm, for fewer collections. 0: V8 chooses throughout. Only the agent's own process is affected, not a program that embeds the library.",
      format: intFormat(0, 300),
      default: 100,
      env: 'CNPROC_OTEL_HEAP_GROWTH_PERCENT',
    },
    tickMs: {
      reload: 'live',
      doc: 'How often pressure is measured and storm windows are closed (ms).',
      format: intFormat(10, 10_000),
      default: 250,
    },
    upMs: {
      reload: 'live',
      doc: 'How long pressure must stay above the next level threshold before the ladder climbs (ms); it then climbs straight to the highest level the pressure meets.',
      format: intFormat(0, 600_000),
      default: 200,
    },
    downMs: {
      reload: 'live',
      doc: 'How long pressure must stay below a level threshold before the ladder steps down (ms): the hysteresis.',
      format: intFormat(0, 3_600_000),
      default: 5000,
    },
    stormWindowMs: {
      doc: 'Length of a storm aggregation window (ms): one cnproc.storm record per parent and executable per window.',
      format: intFormat(100, 600_000),
      default: 1000,
    },
    stormSamples: {
      doc: 'Pids listed as samples on a cnproc.storm record.',
      format: intFormat(0, 100),
      default: 5,
    },
    dropTypes: {
      doc: 'Event types dropped at the top of the ladder, besides thread events (exec and exit are dropped only if listed here).',
      format: listOf('pressure-drop-types', EVENT_TYPES, true),
      default: ['fork', 'comm', 'sid'],
    },
    rateLimitPerParentExecutable: {
      doc: 'Most events per second from the children of one parent executable (burst: twice that); 0: no limit.',
      format: intFormat(0, 10_000_000),
      default: 0,
    },
    rateLimitPerContainer: {
      doc: 'Most events per second from one container (burst: twice that); 0: no limit.',
      format: intFormat(0, 10_000_000),
      default: 0,
    },
    rateLimitPerUser: {
      doc: 'Most events per second from one effective user (burst: twice that); 0: no limit.',
      format: intFormat(0, 10_000_000),
      default: 0,
    },
  },
};
