// Bounded per client (docs/security.md): an event-stream client that stops reading is dropped, and the inspector
// bridge's replay is bounded in bytes and per message. Real node:http and WebSocket servers on 127.0.0.1.
import http from 'node:http';
import net from 'node:net';
import { WebSocket } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createConsoleFeed, MAX_STREAM_BACKLOG_BYTES, type ConsoleFeed } from '../src/server/console/feed.js';
import { startBridge } from '../src/server/inspect/bridge.js';
import { createReplayBuffer, DEFAULT_REPLAY } from '../src/server/inspect/replay.js';
import type { TelemetryStatus } from '../src/server/status.js';
import { captureLogs } from './helpers/logs.js';
import { LIMITS } from './harness/limits.js';
import { freePort, listenLocal, pollUntil } from './harness/net.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const KiB = 1024;
const MiB = 1024 * KiB;

async function listen(server: http.Server): Promise<number> {
  await listenLocal(server);
  cleanups.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
  return (server.address() as net.AddressInfo).port;
}

/** A feed whose status carries `filler` as its last_error, so that each change is one large event. */
function bigFeed(logger: ReturnType<typeof captureLogs>['logger']): { feed: ConsoleFeed; set(filler: string): void } {
  let filler = '';
  const status = () => ({ state: 'waiting', enabled: true, last_error: filler }) as unknown as TelemetryStatus;
  const feed = createConsoleFeed({ telemetryStatus: status, preview: () => null, logger });
  cleanups.push(() => feed.close());
  return { feed, set: (text) => void (filler = text) };
}

describe('an event-stream client that stops reading', () => {
  it(`is dropped once ${MAX_STREAM_BACKLOG_BYTES} bytes wait for it; a reading client keeps its stream, and a new stream starts whole`, async () => {
    const logs = captureLogs();
    const { feed, set } = bigFeed(logs.logger);
    const port = await listen(http.createServer((req, res) => feed.handle(req, res)));

    // The stalled client: asks for the stream, then never reads a byte.
    const stalled = net.connect(port, '127.0.0.1');
    stalled.write('GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    stalled.pause();
    const stalledClosed = new Promise((resolve) => stalled.once('close', resolve));
    cleanups.push(() => stalled.destroy());
    // The reading client: reads everything, and the test never gets ahead of it by more than AHEAD bytes.
    let read = 0;
    let lastChunk = '';
    const reader = http.get(`http://127.0.0.1:${port}/api/events`, (res) => res.on('data', (chunk: Buffer) => ((read += chunk.length), (lastChunk = chunk.toString()))));
    reader.on('error', () => {});
    cleanups.push(() => reader.destroy());
    await pollUntil(() => read > 0);

    const frame = 'x'.repeat(64 * KiB);
    const AHEAD = 256 * KiB;
    let sent = 0;
    // The stalled client takes what the kernel buffers hold (a few MB on loopback), then the backlog grows in Node.
    for (let i = 0; sent < 64 * MiB && logs.withMessage('Console stream dropped').length === 0; i += 1) {
      set(`${i}:${frame}`);
      feed.changed();
      sent += frame.length;
      await pollUntil(() => read >= sent - AHEAD, { everyMs: 1 });
    }
    const [dropped] = logs.withMessage('Console stream dropped: its client stopped reading');
    expect(dropped, `not dropped after ${sent} bytes`).toBeDefined();
    // Cut at the first write past the bound: never more than the bound and one event.
    expect(dropped!.backlogBytes).toBeGreaterThan(MAX_STREAM_BACKLOG_BYTES);
    expect(dropped!.backlogBytes).toBeLessThanOrEqual(MAX_STREAM_BACKLOG_BYTES + frame.length + KiB);
    stalled.resume();
    await stalledClosed;

    // The reader is still served: the next change reaches it.
    set('after the drop');
    feed.changed();
    await pollUntil(() => lastChunk.includes('after the drop'));
    expect(feed.watching()).toBe(true);
    // A reconnecting client starts with the whole picture.
    const again = await new Promise<string>((resolve) => {
      const req = http.get(`http://127.0.0.1:${port}/api/events`, (res) => res.once('data', (chunk: Buffer) => (resolve(chunk.toString()), req.destroy())));
    });
    expect(again).toMatch(/^retry: \d+\n\nevent: telemetry\ndata: .*after the drop/);
  }, LIMITS.testMs);
});

describe('the inspector bridge\'s replay', () => {
  it('keeps at most its bytes, never a message over its size, and drops events before registrations', () => {
    const replay = createReplayBuffer({ events: 1_000, actors: 10, bytes: 1 * MiB, messageBytes: 100 * KiB });
    replay.add(JSON.stringify({ type: '@xstate.actor', sessionId: 'x:0' }));
    for (let i = 0; i < 40; i += 1) replay.add(JSON.stringify({ type: '@xstate.snapshot', n: i, pad: 'y'.repeat(60 * KiB) }));
    expect(replay.bytes()).toBeLessThanOrEqual(1 * MiB);
    expect(replay.bytes()).toBe(replay.messages().reduce((sum, m) => sum + Buffer.byteLength(m), 0));
    expect(replay.messages()[0]).toContain('"x:0"');
    expect(JSON.parse(replay.messages().at(-1)!).n).toBe(39);
    const before = replay.size();
    replay.add(JSON.stringify({ type: '@xstate.snapshot', pad: 'z'.repeat(101 * KiB) }));
    expect(replay.size()).toBe(before);
    // Registrations alone past the bytes: the longest-registered goes.
    for (let i = 1; i <= 10; i += 1) replay.add(JSON.stringify({ type: '@xstate.actor', sessionId: `x:${i}`, pad: 'r'.repeat(99 * KiB) }));
    expect(replay.bytes()).toBeLessThanOrEqual(1 * MiB);
    expect(replay.messages().some((m) => m.includes('"x:0"'))).toBe(false);
    expect(replay.messages().some((m) => m.includes('"x:10"'))).toBe(true);
  });

  it('a late viewer after forty 1 MB messages is sent at most the replay bound', async () => {
    const bridge = await startBridge(await freePort(), captureLogs().logger);
    cleanups.push(() => bridge.close());
    // A first viewer, there from the start, tells when the bridge has relayed (and kept) every message.
    const first = new WebSocket(bridge.websocketUrl);
    cleanups.push(() => first.close());
    let relayed = false;
    first.addEventListener('message', (m) => (relayed ||= String(m.data).includes('"last"')));
    await new Promise((resolve) => first.addEventListener('open', resolve));
    const app = new WebSocket(bridge.websocketUrl);
    cleanups.push(() => app.close());
    await new Promise((resolve) => app.addEventListener('open', resolve));
    app.send(JSON.stringify({ type: '@xstate.actor', sessionId: 'x:0', name: 'server' }));
    for (let i = 0; i < 40; i += 1) app.send(JSON.stringify({ type: '@xstate.snapshot', sessionId: 'x:0', pad: 'y'.repeat(1_000_000) }));
    for (let i = 0; i < 40; i += 1) app.send(JSON.stringify({ type: '@xstate.snapshot', sessionId: 'x:0', pad: 'y'.repeat(200_000) }));
    app.send(JSON.stringify({ type: '@xstate.snapshot', sessionId: 'x:0', snapshot: { value: 'last' } }));
    await pollUntil(() => relayed);

    const late = new WebSocket(bridge.websocketUrl);
    cleanups.push(() => late.close());
    const sizes: number[] = [];
    let sawLast = false;
    late.addEventListener('message', (m) => {
      sizes.push(Buffer.byteLength(String(m.data)));
      sawLast ||= String(m.data).includes('"last"');
    });
    await pollUntil(() => sawLast);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(DEFAULT_REPLAY.bytes);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(DEFAULT_REPLAY.messageBytes);
    expect(sizes.length).toBeGreaterThan(10);
  }, LIMITS.testMs);
});

