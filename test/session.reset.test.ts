// `telemetry-actor reset` while the server runs (LevelDB, one machine): from the next heartbeat on, the running
// actor, `send` and `status` all use the new session. A real server process, a recording endpoint.
import { describe, expect, it } from 'vitest';
import { getJson, readStoredSessionValue } from './helpers/cli.js';
import { beatsOf, sessionsOf } from './helpers/heartbeats.js';
import { useReplicaFixtures } from './helpers/replicas.js';
import { LIMITS } from './harness/limits.js';
import { pollUntil } from './harness/net.js';

const fx = useReplicaFixtures({ postgres: 'none' });

const LOOP = 1;

describe('reset while the server runs (LevelDB)', () => {
  it('after one interval only the new session reaches the endpoint, from the actor and from `send`; stored == live', async () => {
    const env = {
      TELEMETRY_HOME: await fx.cli.tempHome(),
      TELEMETRY_ENDPOINT: `${fx.endpoint.origin}/api/collector`,
      TELEMETRY_LOOP_SECONDS: String(LOOP),
      TELEMETRY_TIMEOUT_SECONDS: '2',
      TELEMETRY_COLLECTOR: 'off',
    };
    const server = await fx.cli.startServerProcess(env);
    await fx.endpoint.waitForRequests(2);
    const [first] = sessionsOf(beatsOf(fx.endpoint));

    const reset = await fx.cli.runCli(['reset'], env);
    expect(reset.stdout).toContain('Session forgotten');
    const resetDone = Date.now();
    const send = await fx.cli.runCli(['send'], env);
    expect(send.code).toBe(0);
    const cut = resetDone + LOOP * 1000;
    await pollUntil(() => beatsOf(fx.endpoint).filter((b) => b.at > cut).length >= 3);

    // Every heartbeat since the reset (the one `send` made included) carries one new session.
    const since = sessionsOf(beatsOf(fx.endpoint).filter((b) => b.at > resetDone + 100));
    expect(since).toHaveLength(1);
    const [second] = since;
    expect(second).not.toBe(first);
    expect(sessionsOf(beatsOf(fx.endpoint).filter((b) => b.at > cut))).toEqual([second]);

    const live = (await getJson<{ session_id: string }>(`${server.url}/api/telemetry`)).body.session_id;
    const status = JSON.parse((await fx.cli.runCli(['status', '--json'], env)).stdout) as { session_id: string };
    expect(live).toBe(second);
    expect(status.session_id).toBe(second);
    await server.stop();
    expect((JSON.parse((await readStoredSessionValue(env.TELEMETRY_HOME))!) as { session_id: string }).session_id).toBe(second);
  }, 4 * LIMITS.testMs);
});
