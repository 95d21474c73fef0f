export { openOutbox, type Outbox, type OutboxCounts, type DeviceBacklog } from './outbox';
export { OUTBOX_DEFAULTS, type OutboxOptions, type FullPolicy, type DroppedRecords, type DropReason } from './options';
export { stampTelemetry, type OutboxRecord, type OutboxEntry, type RecordKind } from './record';
export { replayOutbox, replayPacer, REPLAY_DEFAULTS, type ReplayOptions, type ReplayReport, type ReplayPacer } from './replay';
