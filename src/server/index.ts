// The reference server entry point (`telemetry-actor/server`): host the telemetry actor behind an HTTP API.
export { serverMachine, type ServerInput, type ServerContext, type ServerOutput, type ServerEvent } from '../../machines/serverMachine.js';
export { startServer, type ServerOptions, type RunningServer } from './server.js';
export { serverInput } from './serverInput.js';
export { resolveEndpoint, serverUrl } from './endpoint.js';
export { ROUTES } from './routes.js';
export { liveStatus, storedStatus, type TelemetryStatus } from './status.js';
export { loadSettings, describeSettings, SETTINGS, type Settings, type CliFlags } from '../settings/index.js';
export { createStorage, type Storage, type CollectorStore } from '../stores/index.js';
