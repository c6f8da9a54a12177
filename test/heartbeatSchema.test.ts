// One rule for the heartbeat: src/collector/heartbeat.schema.json, served at GET /api/collector/schema, and the
// validator generated from it (`npm run schema`). The served schema, compiled here by ajv itself, judges every
// body as the collector does; the generated file is what the generator makes today; ajv is not loaded to run it.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATED_FILE, heartbeatValidatorSource, SCHEMA_FILE } from '../scripts/heartbeatValidator.js';
import { validateHeartbeat } from '../src/collector/collector.js';
import { codePointLength, isIsoDateTime } from '../src/collector/schemaRuntime.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { openCollectorApi, type CollectorApi } from './helpers/collectorApi.js';
import { LIMITS } from './harness/limits.js';

const root = path.resolve(import.meta.dirname, '..');

/** The documented payload fields that are free text (session_id and the timestamp have their own rules). */
const TEXT_FIELDS = ['platform', 'architecture', 'node_version', 'runtime', 'environment', 'api_version', 'server_version'] as const;
/** Control characters at both ends of each range, the common ones, DEL, and an unpaired surrogate. */
const BAD_CHARACTERS = ['\u0000', '\u0001', '\t', '\n', '\r', '\u001b', '\u001f', '\u007f', '\ud800', '\udfff'];

const bodyWith = (payload: Record<string, unknown> = {}, top: Record<string, unknown> = {}) => sampleHeartbeat(payload, top) as unknown;
/** A valid body whose payload also holds `"__proto__": <json>`, as a client's JSON text would (an object literal cannot). */
const withProtoField = (json: string): unknown => JSON.parse(`{"source":"s","type":"heartbeat","payload":${JSON.stringify(sampleHeartbeat().payload).slice(0, -1)},"__proto__":${json}}}`);

/** Bodies the rule must judge: valid ones from other versions, and one of each way to break it. */
function corpus(): Array<[string, unknown]> {
  const bodies: Array<[string, unknown]> = [
    ['the documented heartbeat', bodyWith()],
    ['no optional field', { source: 's', type: 'heartbeat', payload: { session_id: sampleHeartbeat().payload.session_id, session_start_timestamp: '2026-11-27T18:00:00Z' } }],
    ['extra scalar fields of another version', bodyWith({ extra_number: 3.5, extra_flag: false, extra_text: 'x' })],
    ['an emoji value of 200 characters (400 UTF-16 units)', bodyWith({ platform: '😀'.repeat(200) })],
    ['an emoji value of 201 characters', bodyWith({ platform: '😀'.repeat(201) })],
    ['a leap second at 23:59 UTC', bodyWith({ session_start_timestamp: '2016-12-31T23:59:60Z' })],
    ['a leap second at 23:59 UTC, written with an offset', bodyWith({ session_start_timestamp: '2017-01-01T00:59:60+01:00' })],
    ['a leap second at noon', bodyWith({ session_start_timestamp: '2016-12-31T12:59:60Z' })],
    ['February 29th of a leap year', bodyWith({ session_start_timestamp: '2028-02-29T00:00:00.123456789Z' })],
    ['February 29th of another year', bodyWith({ session_start_timestamp: '2026-02-29T00:00:00Z' })],
    ['hour 24', bodyWith({ session_start_timestamp: '2026-01-01T24:00:00Z' })],
    ['a lower-case t', bodyWith({ session_start_timestamp: '2026-01-01t00:00:00Z' })],
    ['a nil UUID', bodyWith({ session_id: '00000000-0000-0000-0000-000000000000' })],
    ['an upper-case UUID', bodyWith({ session_id: sampleHeartbeat().payload.session_id.toUpperCase() })],
    ['a UUID of version 9', bodyWith({ session_id: '0b5d6a86-5f4e-9c43-9a55-3f1d2c7e8a90' })],
    ['a number for platform', bodyWith({ platform: 5 })],
    ['an empty field name', bodyWith({ '': 'x' })],
    ['a 65-character field name', bodyWith({ ['f'.repeat(65)]: 'x' })],
    ['a field named __proto__ holding a string', withProtoField('"x"')],
    ['a field named __proto__ holding an object', withProtoField('{"a":1}')],
    ['an array', []],
    ['a top-level hostname', bodyWith({}, { hostname: 'box' })],
  ];
  for (const bad of BAD_CHARACTERS) {
    for (const field of TEXT_FIELDS) bodies.push([`${JSON.stringify(bad)} in ${field}`, bodyWith({ [field]: `a${bad}b` })]);
    bodies.push([`${JSON.stringify(bad)} in source`, bodyWith({}, { source: bad })]);
    bodies.push([`${JSON.stringify(bad)} in an extra field`, bodyWith({ extra: bad })]);
    bodies.push([`${JSON.stringify(bad)} in a field name`, bodyWith({ [`x${bad}`]: 1 })]);
  }
  return bodies;
}

describe('the heartbeat rule', () => {
  it.for(TEXT_FIELDS.flatMap((field) => BAD_CHARACTERS.map((bad) => [field, bad] as const)))(
    'refuses %s holding %j, naming the field',
    ([field, bad]) => {
      const result = validateHeartbeat(bodyWith({ [field]: `1${bad}2` }));
      expect(result).toMatchObject({ ok: false, field: `payload.${field}` });
      if (!result.ok) expect(result.message).toMatch(/control characters/);
    },
  );

  it('names the field for control characters in source, an extra field and a field name', () => {
    expect(validateHeartbeat(bodyWith({}, { source: 'telemetry\u0000' }))).toMatchObject({ ok: false, field: 'source' });
    expect(validateHeartbeat(bodyWith({ extra: 'x\u007f' }))).toMatchObject({ ok: false, field: 'payload.extra', message: expect.stringMatching(/control characters/) });
    expect(validateHeartbeat(bodyWith({ 'x\u0000': 1 }))).toMatchObject({ ok: false, field: 'payload.x\u0000' });
  });

  it('counts length in characters, as JSON Schema does: a surrogate pair is one', () => {
    expect(codePointLength('😀a')).toBe(2);
    expect(codePointLength('\ud800a')).toBe(2);
    expect(validateHeartbeat(bodyWith({ platform: '😀'.repeat(200) })).ok).toBe(true);
    expect(validateHeartbeat(bodyWith({ platform: '😀'.repeat(201) }))).toMatchObject({ ok: false, field: 'payload.platform' });
  });

  it('checks the calendar of session_start_timestamp', () => {
    expect(isIsoDateTime('2026-11-27T18:00:00.000Z')).toBe(true);
    expect(isIsoDateTime('2026-11-27T18:00:00+05:30')).toBe(true);
    for (const bad of ['2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T23:60:00Z', '2026-01-01T00:00:00+24:00', '2026-01-01T00:00:00']) {
      expect(isIsoDateTime(bad), bad).toBe(false);
    }
  });
});

describe('one rule: the served schema and the generated validator', () => {
  let api: CollectorApi;
  beforeAll(async () => void (api = await openCollectorApi('level')));
  afterAll(() => api?.close());

  it('GET /api/collector/schema serves the schema file as application/schema+json, with a versioned $id', async () => {
    const res = await fetch(`${api.origin}/api/collector/schema`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/schema+json');
    const text = await res.text();
    expect(text).toBe(await readFile(path.join(root, SCHEMA_FILE), 'utf8'));
    const schema = JSON.parse(text) as Record<string, unknown>;
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toMatch(/:heartbeat:\d+$/);
  });

  it('the served schema, compiled by ajv with its standard formats, judges every body of the corpus as the collector does', async () => {
    const schema = (await (await fetch(`${api.origin}/api/collector/schema`)).json()) as Record<string, unknown>;
    const ajv = new Ajv2020({ strict: true });
    addFormats.default(ajv);
    const standard = ajv.compile(schema);
    const bodies = corpus();
    expect(bodies.length).toBeGreaterThan(60);
    for (const [name, body] of bodies) expect(validateHeartbeat(body).ok, name).toBe(standard(body));
  });

  it(`${GENERATED_FILE} is what \`npm run schema\` makes from the schema today`, async () => {
    expect(await readFile(path.join(root, GENERATED_FILE), 'utf8')).toBe(heartbeatValidatorSource());
  });
});

describe('start-up cost', () => {
  it('the built collector validates without loading ajv (or reading the schema file)', async () => {
    const script = `
      import { createRequire } from 'node:module';
      const { validateHeartbeat } = await import(process.argv[1] + '/src/collector/collector.js');
      const result = validateHeartbeat({ source: 's', type: 'heartbeat', payload: { session_id: '0b5d6a86-5f4e-4c43-9a55-3f1d2c7e8a90', session_start_timestamp: '2026-11-27T18:00:00.000Z' } });
      const files = Object.keys(createRequire(import.meta.url).cache);
      process.stdout.write(JSON.stringify({ ok: result.ok, ajv: files.filter((f) => f.includes('/node_modules/ajv')) }));`;
    const out = await new Promise<string>((resolve, reject) =>
      // The limit only tells "finished" from "hung".
      execFile(process.execPath, ['--input-type=module', '-e', script, path.join(root, 'dist')], { timeout: LIMITS.commandMs }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    expect(JSON.parse(out)).toEqual({ ok: true, ajv: [] });
  });
});
