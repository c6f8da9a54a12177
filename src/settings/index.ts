// Settings: one table, one loader, one opt-out resolver.
export { loadSettings, resolveOptOut, describeSettings, type Settings, type CliFlags, type OptOutLayer, type OptOutSources, type InspectSetting } from './load.js';
export { SETTINGS, settingsMarkdown, serverFlagOptions, serverFlagHelp, type SettingSpec, type SettingKey } from './table.js';
export { ACCEPT, LOG_LEVELS, MAX_SECONDS, parseBoolean } from './parse.js';
export { resolveTelemetry, optOutHint, type ResolveTelemetryOptions, type ResolvedTelemetry } from './resolveTelemetry.js';
