// B14: the disk the collector's data takes, per installation and per day of history, on both backends. N
// installations report every day for D days, H heartbeats each a day, each heartbeat with its idempotency key,
// written through each store's own write path on a stepped clock, with the retention purge run as the hourly job
// would (keys older than TELEMETRY_IDEMPOTENCY_HOURS go). Then the LevelDB folder after a full compaction and
// PostgreSQL's pg_total_relation_size of the collector tables (after VACUUM), split by what holds the bytes:
// session records (one per installation), idempotency keys (one per heartbeat of the key window), day counters
// (per day and value, whatever the number of installations). From those, a million installations at the defaults.
import { randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';
import pg from 'pg';
import { fleetHeartbeat, fmt, runIfMain, tempDir } from './common.js';
import { startPostgres } from './postgres.js';

export const meta = {
  id: 'B14',
  figure: 'disk per installation (session record + idempotency keys) and per day of counters, LevelDB and PostgreSQL',
  target: 'measured (docs/deployment.md "Disk")',
  needsServer: true,
  limitMs: 1_500_000,
};

const INSTALLATIONS = Number(process.env.BENCH_B14_INSTALLATIONS ?? 2_000);
const DAYS = Number(process.env.BENCH_B14_DAYS ?? 10);
const PER_DAY = Number(process.env.BENCH_B14_PER_DAY ?? 24);
const DAY_MS = 86_400_000;
/** The defaults the extrapolation is for: TELEMETRY_LOOP_SECONDS 600, TELEMETRY_RETENTION_DAYS 400, a million installations. */
const DEFAULT_PER_DAY = 144;
const RETENTION_DAYS = 400;
const FLEET = 1_000_000;
const OPTIONS = { idempotencyHours: 24, retentionDays: RETENTION_DAYS, privacyMinSessions: 5 };
// The first day well in the past, so the stepped days never reach the real today.
const FIRST_DAY = Math.floor(Date.now() / DAY_MS) - 2 * DAYS - 40;

const { createStorage } = await import('../dist/src/stores/index.js');
const { toCounted } = await import('../dist/src/stores/counting.js');

/** The installations: a session each, values going round in fixed cycles (as B13). */
const installations = () => Array.from({ length: INSTALLATIONS }, (_, i) => fleetHeartbeat(i));

/**
 * Every installation sends PER_DAY heartbeats a day (one wave each), each under a new key; the purge runs each
 * wave, and `endOfDay` once a day (PostgreSQL: the VACUUM autovacuum would have run many times in a real day,
 * so deleted keys' space is reused rather than ten days of churn piling up in a minute).
 */
async function fill(store, fleet, endOfDay) {
  for (let day = 0; day < DAYS; day += 1) {
    for (let beat = 0; beat < PER_DAY; beat += 1) {
      const at = new Date((FIRST_DAY + day) * DAY_MS + Math.floor((beat * DAY_MS) / PER_DAY));
      await Promise.all(fleet.map((heartbeat) => store.record(toCounted(heartbeat, at, randomUUID()))));
      await store.purge(at);
    }
    await endOfDay();
  }
  // The end of the last day: the state a collector's disk holds in the steady state (the last window of keys).
  await store.purge(new Date((FIRST_DAY + DAYS) * DAY_MS - 1));
}

async function folderBytes(dir) {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) if (entry.isFile()) total += (await stat(path.join(dir, entry.name))).size;
  return total;
}

/** LevelDB: the folder after a full compaction, and each kind of key's share (approximateSize of its range). */
async function levelSizes(dbPath) {
  const db = new Level(dbPath);
  await db.open();
  try {
    await db.compactRange('!', '~');
    const share = (prefix) => db.approximateSize(`!collector!${prefix}`, `!collector!${prefix.slice(0, -1)};`);
    const parts = { sessions: await share('s:'), keys: await share('k:'), days: await share('d:') };
    let keys = 0;
    for await (const _ of db.keys({ gte: '!collector!k:', lt: '!collector!k;' })) keys += 1;
    return { ...parts, total: await folderBytes(dbPath), keyCount: keys };
  } finally {
    await db.close();
  }
}

/** Runs `work` with a client of the database at `url`. */
async function withClient(url, work) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const vacuum = (url, full = false) => withClient(url, (client) => client.query(full ? 'VACUUM FULL' : 'VACUUM'));

/** PostgreSQL: every collector table with its indexes and TOAST, after VACUUM (VACUUM FULL: the live rows alone). */
async function postgresSizes(url, full = false) {
  await vacuum(url, full);
  return withClient(url, async (client) => {
    const { rows } = await client.query(
      "SELECT relname, pg_total_relation_size(oid)::bigint AS bytes FROM pg_class WHERE relkind = 'r' AND relname LIKE 'collector\\_%'",
    );
    const bytes = Object.fromEntries(rows.map((r) => [r.relname, Number(r.bytes)]));
    const keyCount = Number((await client.query('SELECT count(*) AS n FROM collector_keys')).rows[0].n);
    const total = Object.values(bytes).reduce((a, b) => a + b, 0);
    return { sessions: bytes.collector_session_states ?? 0, keys: bytes.collector_keys ?? 0, days: bytes.collector_days ?? 0, total, keyCount };
  });
}

/** One backend: fill, close, measure; per installation, per key, per day, and the million-installation total. */
async function backend(name, settings, measureSizes, endOfDay = async () => {}) {
  const storage = await createStorage(settings);
  await storage.open();
  const started = performance.now();
  try {
    await fill(await storage.openCollector(OPTIONS), installations(), endOfDay);
  } finally {
    await storage.close();
  }
  const fillS = (performance.now() - started) / 1000;
  const sizes = await measureSizes();
  const compacted = name === 'PostgreSQL' ? await measureSizes(true) : undefined;
  const perInstallation = sizes.sessions / INSTALLATIONS;
  const perKey = sizes.keys / Math.max(1, sizes.keyCount);
  // Day counters exist for each day heartbeats came in and for the 29 days after (the 7- and 30-day windows).
  const perDay = sizes.days / (DAYS + 29);
  const keysKeptPerInstallation = (sizes.keyCount / INSTALLATIONS) * (DEFAULT_PER_DAY / PER_DAY);
  const fleetBytes = FLEET * (perInstallation + perKey * keysKeptPerInstallation) + perDay * RETENTION_DAYS;
  return { name, sizes, compacted, fillS, perInstallation, perKey, perDay, keysKeptPerInstallation, fleetBytes };
}

const kib = (bytes) => `${fmt(bytes / 1024)} KiB`;
const gib = (bytes) => `${fmt(bytes / 1024 ** 3)} GiB`;

export async function measure() {
  const home = await tempDir('telemetry-bench-b14-');
  const postgres = await startPostgres();
  try {
    const levelPath = `${home.dir}/db`;
    const level = await backend('LevelDB', { home: home.dir, dbPath: levelPath }, () => levelSizes(levelPath));
    const url = await postgres.database();
    const pgResult = await backend('PostgreSQL', { home: home.dir, dbPath: `${home.dir}/unused`, databaseUrl: url }, (full) => postgresSizes(url, full), () => vacuum(url));
    const both = [level, pgResult];
    const line = (b) =>
      `${b.name}: ${fmt(b.perInstallation)} B per installation (session record), ${fmt(b.perKey)} B per idempotency key ` +
      `(${fmt(b.keysKeptPerInstallation)} kept per installation at ${DEFAULT_PER_DAY} heartbeats a day = ${kib(b.perKey * b.keysKeptPerInstallation)}), ${kib(b.perDay)} per day of counters`;
    return {
      ours: both.map((b) => `${b.name} ${gib(b.fleetBytes)}`).join('; '),
      baseline: `${FLEET.toLocaleString('en')} installations, ${RETENTION_DAYS} days, 600 s loop, 24 h keys`,
      ratio: both.map((b) => `${b.name} ${fmt((b.fleetBytes / FLEET / RETENTION_DAYS))} B per installation-day`).join('; '),
      pass: true,
      notes:
        `${both.map(line).join('; ')}. Measured: ${INSTALLATIONS} installations x ${DAYS} days x ${PER_DAY} heartbeats, each with a key; ` +
        both.map((b) => `${b.name} total ${kib(b.sizes.total)} (sessions ${kib(b.sizes.sessions)}, keys ${kib(b.sizes.keys)} for ${b.sizes.keyCount}, days ${kib(b.sizes.days)}), written in ${fmt(b.fillS, ' s')}`).join('; ') +
        `; PostgreSQL after VACUUM FULL (live rows only): total ${kib(pgResult.compacted.total)}, ${fmt(pgResult.compacted.sessions / INSTALLATIONS)} B per session record, ${fmt(pgResult.compacted.keys / Math.max(1, pgResult.compacted.keyCount))} B per key`,
    };
  } finally {
    await postgres.stop();
    await home.cleanup();
  }
}

runIfMain(import.meta.url, meta, measure);
