// The heartbeat rule at the collector's edge: heartbeat.schema.json (served at GET /api/collector/schema), checked
// by the validator generated from it, with its first error told as `{ field, message }` for the 400 answer.
import { readFile } from 'node:fs/promises';
import type { Heartbeat } from '../heartbeat.js';
import { validate as generated } from './heartbeatValidator.generated.js';

/** The schema file, shipped beside this module (the build copies it into dist/). */
export const HEARTBEAT_SCHEMA_FILE = new URL('./heartbeat.schema.json', import.meta.url);
/** What the schema is served as (the JSON Schema media type). */
export const SCHEMA_CONTENT_TYPE = 'application/schema+json';

let schemaText: Promise<string> | undefined;

/** The schema's text, read once, when first asked for: a server that is never asked never reads it. */
export function heartbeatSchemaText(): Promise<string> {
  schemaText ??= readFile(HEARTBEAT_SCHEMA_FILE, 'utf8');
  return schemaText;
}

export type ValidationResult = { ok: true; heartbeat: Heartbeat } | { ok: false; field: string; message: string };

/** An error as ajv reports it (only what the messages use). */
interface SchemaError {
  instancePath: string;
  keyword: string;
  params: { missingProperty?: string; additionalProperty?: string; propertyName?: string; type?: string; limit?: number };
}

const check = generated as unknown as ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

const TEXT_RULE = 'must not contain control characters (U+0000-U+001F, U+007F) or unpaired surrogates';
const DATE_TIME_RULE = 'must be an ISO 8601 date-time with an offset, e.g. 2026-11-27T18:00:00.000Z';

/** `/payload/a~1b` -> `payload.a/b`; the whole body is `body`. */
function fieldOf(instancePath: string): string {
  if (instancePath === '') return 'body';
  return instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .join('.');
}

const child = (parent: string, name: string): string => (parent === 'body' ? name : `${parent}.${name}`);

/** The error worth naming: a failed string rule inside `anyOf` says more than "matches no branch". */
function pick(errors: SchemaError[]): SchemaError {
  const names = errors.find((e) => e.keyword === 'propertyNames');
  if (names !== undefined) return names;
  return errors.find((e) => e.keyword === 'pattern' || e.keyword === 'maxLength' || e.keyword === 'minLength') ?? errors[errors.length - 1]!;
}

/** The field and the sentence for one schema error. */
function explain(error: SchemaError): { field: string; message: string } {
  const at = fieldOf(error.instancePath);
  const { params } = error;
  const say = (field: string, rule: string) => ({ field, message: `${field} ${rule}` });
  switch (error.keyword) {
    case 'required':
      return say(child(at, params.missingProperty ?? ''), 'is required');
    case 'additionalProperties':
      return { field: params.additionalProperty ?? at, message: `unexpected field ${params.additionalProperty}: only source, type and payload are allowed` };
    case 'propertyNames':
      return say(child(at, params.propertyName ?? ''), 'is not a valid field name: 1 to 64 characters, no control characters');
    case 'type':
      return at === 'body' ? say(at, 'must be a JSON object') : say(at, `must be ${params.type === 'object' ? 'an object' : `a ${params.type}`}`);
    case 'const':
      return say(at, 'must be "heartbeat"');
    case 'maxLength':
      return say(at, `must be at most ${params.limit} characters`);
    case 'minLength':
      return say(at, 'must not be empty');
    case 'anyOf':
      return say(at, 'must be a string of at most 200 characters, a number or a boolean');
    case 'format':
      return say(at, DATE_TIME_RULE);
    default:
      if (at === 'payload.session_id') return say(at, 'must be a UUID');
      return say(at, at === 'payload.session_start_timestamp' ? DATE_TIME_RULE : TEXT_RULE);
  }
}

/**
 * Checks a parsed body against the heartbeat schema; pure. On failure `field` names the first bad field
 * (`source`, `payload.session_id`, ...; `body` when the body is not an object). Payload fields other than
 * session_id and session_start_timestamp may be absent, and unknown payload fields holding a bounded string, a
 * number or a boolean pass, so that heartbeats from other versions still count.
 */
export function validateHeartbeat(body: unknown): ValidationResult {
  if (check(body)) return { ok: true, heartbeat: body as Heartbeat };
  const errors = check.errors ?? [];
  return { ok: false, ...explain(errors.length > 0 ? pick(errors) : { instancePath: '', keyword: 'type', params: {} }) };
}
