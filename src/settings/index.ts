// Settings: one table, one loader, one opt-out resolver.
export { loadSettings, resolveOptOut, describeSettings, type Settings, type CliFlags, type OptOutLayer, type OptOutSources, type InspectSetting } from './load.js';
export { SETTINGS, settingsMarkdown, serverFlags, type ServerFlag, type SettingSpec, type SettingKey } from './table.js';
export { mistypedVariables, mistypedWarning, NOT_SETTINGS_PREFIX } from './mistyped.js';
export { ACCEPT, LOG_LEVELS, MAX_SECONDS, parseBoolean } from './parse.js';
export { resolveTelemetry, optOutHint, type ResolveTelemetryOptions, type ResolvedTelemetry } from './resolveTelemetry.js';
