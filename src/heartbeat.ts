// The heartbeat body: exactly the documented fields, nothing that identifies a host or a person.
import os from 'node:os';

/**
 * The keys of a heartbeat's `payload`, in the order they are sent: exactly these, as documented in
 * docs/privacy.md. The first-start notice lists them; HeartbeatPayload is typed from them.
 */
export const SENT_FIELDS = [
  'platform',
  'architecture',
  'node_version',
  'runtime',
  'environment',
  'api_version',
  'server_version',
  'session_id',
  'session_start_timestamp',
] as const;

/** The `payload` object of a heartbeat: a string under each of SENT_FIELDS, `runtime` one of three. */
export type HeartbeatPayload = { [K in (typeof SENT_FIELDS)[number]]: K extends 'runtime' ? 'node' | 'bun' | 'deno' : string };

/** The whole JSON body POSTed to the endpoint. */
export interface Heartbeat {
  source: string;
  type: 'heartbeat';
  payload: HeartbeatPayload;
}

/**
 * The request header that names one heartbeat across its retries (the IETF Idempotency-Key draft's, in
 * Node's lower case): the sender sets it, the collector counts each key once.
 */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

export interface HeartbeatFields {
  source: string;
  environment: string;
  apiVersion: string;
  serverVersion: string;
  sessionId: string;
  sessionStartTimestamp: string;
}

/** The runtime this process runs on, told apart by the globals each one defines. */
export function detectRuntime(): HeartbeatPayload['runtime'] {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return 'bun';
  if (g.Deno !== undefined) return 'deno';
  return 'node';
}

/** os.type(), with Windows_NT shown as Windows (as Python's platform.system() does for Prefect). */
export function platformName(type: string = os.type()): string {
  return type === 'Windows_NT' ? 'Windows' : type;
}

/** Builds the heartbeat for one send; pure apart from reading the platform. */
export function buildHeartbeat(fields: HeartbeatFields): Heartbeat {
  return {
    source: fields.source,
    type: 'heartbeat',
    payload: {
      platform: platformName(),
      architecture: os.machine(),
      node_version: process.versions.node,
      runtime: detectRuntime(),
      environment: fields.environment,
      api_version: fields.apiVersion,
      server_version: fields.serverVersion,
      session_id: fields.sessionId,
      session_start_timestamp: fields.sessionStartTimestamp,
    },
  };
}
