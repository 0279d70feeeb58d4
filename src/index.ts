/**
 * cnproc-otel library API.
 *
 * {@link startProcessLogs} turns every Linux process event into an OpenTelemetry log record on a
 * LoggerProvider you own; {@link ProcEventSource} is the raw capture underneath (typed events).
 * {@link WorkloadResolver} names the containers processes run in; {@link WorkloadResourceProcessor}
 * groups a provider's records under one resource per workload, as the agent does.
 */

export type { BatchStore, BatchStoreStats, BodyCompression, PayloadEncoding, StoredBatch } from './delivery/batch-store.js';
export { SpoolError } from './delivery/batch-store.js';
export { Delivery, type DeliveryOptions, type DeliveryStats } from './delivery/delivery.js';
export { DiskSpool, type DiskSpoolOptions } from './delivery/disk-spool.js';
export { HttpSender, type HttpSenderOptions, type SendResult } from './delivery/http-sender.js';
export { MemoryStore } from './delivery/memory-store.js';
export { SpoolingLogExporter } from './delivery/spooling-exporter.js';
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
export { AccountingLogRecordProcessor, type ProcessorStats } from './otel/accounting-processor.js';
export { ATTRIBUTE_DOCS, type AttrName } from './otel/attributes.js';
export { EVENT_NAMES } from './otel/record.js';
export { isAgentWorkloadKey, WorkloadResourceProcessor, WorkloadResources } from './otel/workload-resource.js';
export { type ProcessLogs, type ProcessLogsOptions, startProcessLogs } from './pipeline/pipeline.js';
export { type CgroupIdentity, type ContainerRuntime, cgroupIdentity, setCgroupHostRoot } from './process/container.js';
export type { EnrichedEvent, PreviousValues, ProcessInfo } from './process/model.js';
export { type Workload, WorkloadResolver, type WorkloadResolverOptions, type WorkloadStats } from './process/workload.js';
export type { TraceRoot } from './traces/config.js';
export { ProcessTraces, type ProcessTracesOptions, type ProcessTracesStats } from './traces/process-traces.js';
export { escapeBytes } from './util/escape.js';
