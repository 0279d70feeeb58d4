/**
 * cnproc-otel library API.
 *
 * {@link ProcEventSource} subscribes to the Linux proc connector and delivers typed process events.
 */
export type { SubscriptionInfo } from './kernel/capture-protocol.js';
export { WallClock } from './kernel/clock.js';
export { type AckMessage, decodeDatagram, type MalformedReason, type MonotonicToWall } from './kernel/decode.js';
export { CaptureError, type CaptureErrorCategory } from './kernel/errors.js';
export {
  type CommEvent,
  type CoredumpEvent,
  EVENT_TYPES,
  type EventType,
  type ExecEvent,
  type ExitEvent,
  type ForkEvent,
  type GidEvent,
  type HrTime,
  type ProcEvent,
  type ProcEventKind,
  type PtraceEvent,
  type SidEvent,
  type UidEvent,
  type UnknownEvent,
} from './kernel/events.js';
export { type CaptureStats, ProcEventSource, type ProcEventSourceOptions } from './kernel/source.js';
export { escapeBytes } from './util/escape.js';
