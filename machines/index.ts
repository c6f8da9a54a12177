// The statecharts, importable without touching disk or network.
export * from './telemetryMachine.js';
export * from './serverMachine.js';
