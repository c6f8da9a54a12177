// The collector entry point (`telemetry-actor/collector`): receive heartbeats, validate them, count them.
export { createCollector, validateHeartbeat, MAX_BODY_BYTES, type Collector, type CollectorDeps, type CollectorSource, type CollectorStats, type ValidationResult } from './collector.js';
