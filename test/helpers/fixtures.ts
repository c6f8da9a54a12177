// Sample data shared by tests: a valid heartbeat and a telemetry machine input.
import { v4 as uuidv4 } from 'uuid';
import type { TelemetryInput } from '../../machines/telemetryMachine.js';
import type { Heartbeat } from '../../src/heartbeat.js';

/** A valid heartbeat with a fresh session id; `payload` and `top` override or add fields (valid or not). */
export function sampleHeartbeat(payload: Partial<Record<keyof Heartbeat['payload'], unknown>> & Record<string, unknown> = {}, top: Record<string, unknown> = {}): Heartbeat {
  return {
    source: 'telemetry_actor',
    type: 'heartbeat',
    payload: {
      platform: 'Linux',
      architecture: 'x86_64',
      node_version: '20.20.2',
      runtime: 'node',
      environment: 'production',
      api_version: '0.1.0',
      server_version: '0.1.0',
      session_id: uuidv4(),
      session_start_timestamp: '2026-11-27T18:00:00.000Z',
      ...payload,
    },
    ...top,
  } as Heartbeat;
}

/** Telemetry machine input for `endpoint`: a 600 s loop, 5 s timeout, no retries unless overridden. */
export function telemetryInput(endpoint: string, overrides: Partial<TelemetryInput> = {}): TelemetryInput {
  return {
    endpoint,
    loopSeconds: 600,
    timeoutSeconds: 5,
    environment: 'production',
    source: 'telemetry_actor',
    serverVersion: '0.1.0',
    apiVersion: '0.1.0',
    retries: 0,
    ...overrides,
  };
}
