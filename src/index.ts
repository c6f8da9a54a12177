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
