// telemetry-actor: the embeddable telemetry actor. The server, collector and machines have entry points of their own.
export {
  telemetryMachine,
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
export { createTelemetryMachine, DEFAULT_OPT_OUT_HINT, type TelemetryDeps, type SessionSource } from './actor/createTelemetryMachine.js';
export { resolveOptOut, type OptOutLayer, type OptOutSources } from './settings/load.js';
export { resolveTelemetry, optOutHint, type ResolveTelemetryOptions, type ResolvedTelemetry } from './settings/resolveTelemetry.js';
export { buildHeartbeat, SENT_FIELDS, type Heartbeat, type HeartbeatPayload } from './heartbeat.js';
export { createLevelSessionStore, type LevelLike, type SessionStore, type StoredSession, type LoadedStoredSession } from './stores/index.js';
export { createLogger, silentLogger, type Logger } from './logger.js';
export { redactUrl } from './redact.js';
export { SettingsError, UserError } from './errors.js';
export { VERSION, API_VERSION, SOURCE } from './version.js';
