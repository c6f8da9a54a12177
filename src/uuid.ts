// Session ids: random v4 UUIDs from the runtime's Web Crypto, and the checks the stores and collector apply.
// The same rules as the uuid package's v4/validate/version, without loading its dozen modules at start-up.

/** Any RFC 9562 UUID (versions 1-8), the nil and the max UUID, any case: what uuid's `validate` accepts. */
const UUID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/i;
/** A version 4 (random) UUID, any case. */
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** A new random (version 4) UUID, lower case. */
export function randomUuid(): string {
  return globalThis.crypto.randomUUID();
}

/** True for a string that is a UUID of any version (or nil, or max). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** True for a string that is a version 4 UUID. */
export function isUuidV4(value: unknown): value is string {
  return typeof value === 'string' && UUID_V4.test(value);
}
