// The idempotency fingerprint: built fast for the validated shape, yet the same text (and so the same stored
// fingerprint) as the general sorted-keys form for any body, so a retry sent across an upgrade is still a retry.
import { describe, expect, it } from 'vitest';
import type { Heartbeat } from '../src/heartbeat.js';
import { canonical, canonicalHeartbeat, fingerprintOf } from '../src/stores/counting.js';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { seededRandom } from './helpers/random.js';

const FIELDS = ['platform', 'architecture', 'node_version', 'runtime', 'environment', 'api_version', 'server_version', 'session_id', 'session_start_timestamp'];
const ODD_TEXT = ['', 'a"b', 'back\\slash', 'é ü 中文', '😀', '\u2028', '__proto__', 'constructor', '10', '2', 'Z', 'a b'];

function shuffled<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** A random scalar of the kinds a payload may hold (and, rarely, a kind it may not). */
function scalar(random: () => number): unknown {
  const pick = Math.floor(random() * 8);
  if (pick === 0) return random() * 1e6 - 5e5;
  if (pick === 1) return [0, -0, 1e21, 1e-7, 42][Math.floor(random() * 5)];
  if (pick === 2) return random() < 0.5;
  if (pick === 3 && random() < 0.3) return random() < 0.5 ? { nested: [1, 'x', { b: 1, a: 2 }] } : null;
  return ODD_TEXT[Math.floor(random() * ODD_TEXT.length)];
}

/** A body with the known fields or some of them, extra fields, keys in any order; now and then another shape. */
function randomBody(random: () => number): Heartbeat {
  const base = sampleHeartbeat().payload as unknown as Record<string, unknown>;
  const names = shuffled(FIELDS.filter((name) => random() < 0.85), random);
  const extras = random() < 0.4 ? Array.from({ length: 1 + Math.floor(random() * 3) }, () => ODD_TEXT[Math.floor(random() * ODD_TEXT.length)] as string) : [];
  const payload: Record<string, unknown> = {};
  for (const name of shuffled([...names, ...extras], random)) payload[name] = random() < 0.7 && name in base ? base[name] : scalar(random);
  const top: Array<[string, unknown]> = shuffled([['source', random() < 0.9 ? 'telemetry_actor' : scalar(random)], ['type', 'heartbeat'], ['payload', payload]], random);
  if (random() < 0.05) top.push(['extra', scalar(random)]);
  return Object.fromEntries(top) as unknown as Heartbeat;
}

describe('heartbeat fingerprint', () => {
  it('is the sorted-keys text of the body, for 5,000 random bodies (any key order, extra fields, odd text)', () => {
    const random = seededRandom(3);
    for (let i = 0; i < 5_000; i += 1) {
      const body = randomBody(random);
      expect(canonicalHeartbeat(body)).toBe(canonical(body));
    }
  });

  it('keeps the fingerprints stored by earlier versions (a retry across an upgrade is still a duplicate)', () => {
    const payload = {
      platform: 'Linux', architecture: 'x86_64', node_version: '20.20.2', runtime: 'node', environment: 'production',
      api_version: '0.1.0', server_version: '0.1.0', session_id: '6f1c1f64-3f0e-4a57-9d0b-1a0c3a3b5e21', session_start_timestamp: '2026-11-27T18:00:00.000Z',
    };
    // Computed by the version before this one (sha256 of the generic canonical text, base64url).
    expect(fingerprintOf({ source: 'telemetry_actor', type: 'heartbeat', payload } as Heartbeat)).toBe('m8PiAWZ32dm9qqc6M7kLk2yFI9sxjURRwea4U5rRQow');
    const other = { type: 'heartbeat', payload: { session_start_timestamp: '2026-11-27T18:00:00.000Z', session_id: '6f1c1f64-3f0e-4a57-9d0b-1a0c3a3b5e21', extra: 'a"b\\c é', n: 1.5, b: true }, source: 'x' };
    expect(fingerprintOf(other as unknown as Heartbeat)).toBe('d-mpEBpOjppBrXy6TFCFMvURvD4zQCzL6aZVeZp5ZHw');
  });

  it('tells bodies apart that differ in any one field', () => {
    const body = sampleHeartbeat();
    for (const name of FIELDS) {
      const changed = { ...body, payload: { ...body.payload, [name]: `${(body.payload as unknown as Record<string, string>)[name]}x` } };
      expect(fingerprintOf(changed)).not.toBe(fingerprintOf(body));
    }
    expect(fingerprintOf({ ...body, source: 'other' })).not.toBe(fingerprintOf(body));
  });
});
