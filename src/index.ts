// telemetry-actor's public API.
export {
  telemetryMachine,
  failureOf,
  retryDelayMs,
  type TelemetryInput,
  type TelemetryContext,
  type TelemetryOutput,
  type TelemetryEvent,
  type StopReason,
  type LoadedSession,
  type SendHeartbeatInput,
  type SendHeartbeatOutput,
  type HeartbeatFailure,
} from '../machines/telemetryMachine.js';
export { createTelemetryMachine, SENT_FIELDS, type TelemetryDeps } from './telemetry.js';
export { buildHeartbeat, platformName, detectRuntime, type Heartbeat, type HeartbeatPayload, type HeartbeatFields } from './payload.js';
export { createSender, createDefaultDispatcher, HeartbeatError, parseRetryAfter, redactUrl, type SenderOptions } from './sender.js';
export {
  getOrCreateSession,
  readSession,
  deleteSession,
  isStoredSession,
  SESSION_KEY,
  CONFIGURATION_SUBLEVEL,
  type Database,
  type StoredSession,
  type LoadedStoredSession,
} from './sessionStore.js';
export { createLogger, silentLogger, type Logger, type LoggerOptions } from './logger.js';
export { VERSION, API_VERSION, SOURCE } from './version.js';
export { serverMachine, type ServerInput, type ServerContext, type ServerOutput, type ServerEvent } from '../machines/serverMachine.js';
export { startServer, serverInput, type ServerOptions, type RunningServer } from './server.js';
export { loadSettings, parseBoolean, describeSettings, SettingsError, SETTINGS_TABLE, type Settings, type CliFlags, type OptOutLayer } from './settings.js';
export { createCollector, validateHeartbeat, MAX_BODY_BYTES, type Collector, type CollectorStats, type ValidationResult } from './collector.js';
export { liveStatus, storedStatus, type TelemetryStatus } from './status.js';
export { UserError } from './errors.js';
