// B12: the collector on a stalled PostgreSQL. Every PostgreSQL process is SIGSTOPped while senders keep
// POSTing (50 a second, each on its own connection, for 20 s): how soon the first 503 comes, the slowest
// answer, the collector's RSS growth, and how soon a POST is 202 again after SIGCONT (no restart).
import { signalPostgres } from '../test/harness/postgresProcesses.js';
import { postAlone, rssBytes } from '../test/harness/requests.js';
import { fmt, pollUntil, runIfMain, sleep } from './common.js';
import { startPostgres } from './postgres.js';
import { getJson, startServerProcess } from './serverProcess.js';

export const meta = {
  id: 'B12',
  figure: 'stalled PostgreSQL (SIGSTOP) under 50 POSTs/s for 20 s, then SIGCONT',
  target: 'every POST 503 within 10 s; RSS bounded; 202 again without a restart',
  needsServer: true,
};

const STALL_MS = 20_000;
const EVERY_MS = 20;
const ANSWER_LIMIT_MS = 10_000;

const HEARTBEAT = JSON.stringify({
  source: 'telemetry_actor',
  type: 'heartbeat',
  payload: { platform: 'Linux', architecture: 'x86_64', node_version: '20.20.2', runtime: 'node', environment: 'production', api_version: '0.1.0', server_version: '0.1.0', session_id: '0b5d6a86-5f4e-4c43-9a55-3f1d2c7e8a90', session_start_timestamp: '2026-11-27T18:00:00.000Z' },
});

/** Posts every EVERY_MS for STALL_MS while sampling RSS; resolves with the answers and samples. */
async function postThroughStall(server, stalledAt) {
  const answers = [];
  const rss = [];
  let first503 = Infinity;
  for (let i = 0; performance.now() - stalledAt < STALL_MS; i += 1) {
    answers.push(
      postAlone(`${server.url}/api/collector`, HEARTBEAT).then((a) => {
        if (a.status === 503) first503 = Math.min(first503, performance.now() - stalledAt);
        return a;
      }),
    );
    if (i % 25 === 0) rss.push(await rssBytes(server.pid));
    await sleep(EVERY_MS);
  }
  await Promise.race([Promise.all(answers), sleep(ANSWER_LIMIT_MS)]);
  return { answers, rss, first503: () => first503 };
}

export async function measure() {
  const postgres = await startPostgres();
  const server = await startServerProcess({ env: { TELEMETRY_ENABLED: 'false', TELEMETRY_COLLECTOR: 'on', TELEMETRY_DATABASE_URL: await postgres.database() } });
  try {
    if ((await postAlone(`${server.url}/api/collector`, HEARTBEAT)).status !== 202) throw new Error('the collector did not accept a heartbeat');
    const before = await rssBytes(server.pid);
    await signalPostgres(postgres.dataDir, 'SIGSTOP');
    const stalledAt = performance.now();
    let run;
    let health;
    try {
      run = await postThroughStall(server, stalledAt);
      health = (await getJson(`${server.url}/api/health`).then(() => 200, () => 'failed'));
    } finally {
      await signalPostgres(postgres.dataDir, 'SIGCONT');
    }
    const resumedAt = performance.now();
    // A 202 again within 30 s of SIGCONT.
    await pollUntil(async () => (await postAlone(`${server.url}/api/collector`, HEARTBEAT)).status, { until: (status) => status === 202, timeoutMs: 30_000, everyMs: 100 });
    const recoveredMs = performance.now() - resumedAt;
    const answers = await Promise.all(run.answers);
    const slowest = Math.max(...answers.map((a) => a.ms));
    const refused = answers.filter((a) => a.status === 503).length;
    const growth = Math.max(...run.rss) - before;
    return {
      ours: `first 503 after ${fmt(run.first503(), ' ms')}; slowest answer ${fmt(slowest, ' ms')}; ${refused}/${answers.length} answered 503; RSS ${fmt(before / 2 ** 20)} MiB, +${fmt(growth / 2 ** 20)} MiB at most`,
      baseline: `limit ${ANSWER_LIMIT_MS} ms; /api/health ${health}`,
      ratio: `slowest/limit ${fmt(slowest / ANSWER_LIMIT_MS)}; RSS ${fmt(Math.max(...run.rss) / before)}x; 202 again ${fmt(recoveredMs, ' ms')} after SIGCONT`,
      pass: refused === answers.length && slowest < ANSWER_LIMIT_MS && health === 200,
    };
  } finally {
    await server.stop();
    await postgres.stop();
  }
}

runIfMain(import.meta.url, meta, measure);
