// The live inspector as users run it: the built CLI with --inspect, a real bridge and a real WebSocket client.
import net from 'node:net';
import { WebSocket } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { startInspector } from '../src/server/inspect/inspect.js';
import { startBridge } from '../src/server/inspect/bridge.js';
import { createCliSandbox, getJson, type CliSandbox, type ServerProcess } from './helpers/cli.js';
import { captureLogs } from './helpers/logs.js';
import { LIMITS } from './harness/limits.js';
import { freePort, listenLocal, pollUntil } from './harness/net.js';

/** One Stately inspection event as it travels through the bridge (JSON text frames). */
interface WireEvent {
  type: '@xstate.actor' | '@xstate.event' | '@xstate.snapshot';
  sessionId: string;
  name?: string;
  parentId?: string;
  definition?: string;
  snapshot?: { value?: unknown; status?: string };
  event?: { type: string };
}

/** A WebSocket client that records every message, parsed. */
interface Viewer {
  events: WireEvent[];
  /** true once open, false if the connection failed or was refused. */
  opened: Promise<boolean>;
  close(): void;
}

let cli: CliSandbox;
const cleanups: Array<() => unknown> = [];
beforeEach(() => {
  cli = createCliSandbox();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await cli.cleanup();
});

function view(url: string, headers?: Record<string, string>): Viewer {
  const events: WireEvent[] = [];
  const ws = new WebSocket(url, headers === undefined ? undefined : { headers });
  ws.addEventListener('message', (message) => events.push(JSON.parse(String(message.data)) as WireEvent));
  const opened = new Promise<boolean>((resolve) => {
    ws.addEventListener('open', () => resolve(true));
    ws.addEventListener('close', () => resolve(false));
  });
  cleanups.push(() => ws.close());
  return { events, opened, close: () => ws.close() };
}

const actorNamed = (events: WireEvent[], name: string) => events.find((e) => e.type === '@xstate.actor' && e.name === name);
const valuesOf = (events: WireEvent[], sessionId: string | undefined) =>
  events.filter((e) => e.type === '@xstate.snapshot' && e.sessionId === sessionId).map((e) => JSON.stringify(e.snapshot?.value));

/** Waits until the viewer has seen both machines and the telemetry loop going round at least once. */
async function expectLiveMachines(viewer: Viewer): Promise<void> {
  await pollUntil(() => {
    const telemetry = actorNamed(viewer.events, 'telemetry');
    const values = valuesOf(viewer.events, telemetry?.sessionId);
    return ['"loadingSession"', '"sending"', '"waiting"'].every((v) => values.includes(v));
  });
  const server = actorNamed(viewer.events, 'server')!;
  const telemetry = actorNamed(viewer.events, 'telemetry')!;
  expect(server).toBeDefined();
  expect(telemetry.parentId).toBe(server.sessionId);
  // The definition is the machine config as JSON: effects appear by their names.
  const telemetryDef = JSON.parse(telemetry.definition!) as { states: Record<string, { invoke?: { src: unknown } }> };
  expect(telemetryDef.states.loadingSession?.invoke?.src).toBe('loadSession');
  expect(telemetryDef.states.sending?.invoke?.src).toBe('sendHeartbeat');
  const serverDef = JSON.parse(server.definition!) as { id: string; states: Record<string, unknown> };
  expect(serverDef.id).toBe('server');
  expect(Object.keys(serverDef.states).sort()).toEqual(['running', 'starting', 'stopped', 'stopping']);
  expect(actorNamed(viewer.events, 'sendHeartbeat')).toBeDefined();
  expect(valuesOf(viewer.events, server.sessionId)).toContain(JSON.stringify({ running: 'hostingTelemetry' }));
}

/** Every stdout line was pino JSON (the helper keeps other lines as level 0), and stderr stayed empty. */
function expectCleanOutput(server: ServerProcess): void {
  expect(server.lines.filter((line) => typeof line.level !== 'number' || line.level < 10)).toEqual([]);
  expect(server.stderr()).toBe('');
}

const inspectorLines = (server: ServerProcess) => server.lines.filter((line) => line.component === 'inspector');

describe('--inspect (local bridge)', () => {
  it('streams both machines to a client of the bridge, on loopback only, and still exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const home = await cli.tempHome();
    const server = await cli.startServerProcess({ TELEMETRY_HOME: home, TELEMETRY_LOOP_SECONDS: '1' }, {
      args: ['--inspect', '--inspect-port', String(port)],
    });
    expect(inspectorLines(server)).toEqual([
      expect.objectContaining({ level: 30, msg: 'Inspector bridge ready; open url in a browser', url: `http://127.0.0.1:${port}` }),
    ]);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(await page.text()).toContain('https://stately.ai/inspect');

    const viewer = view(`ws://127.0.0.1:${port}`);
    expect(await viewer.opened).toBe(true);
    await expectLiveMachines(viewer);

    // Another web origin may not read the stream; nor may anything but loopback reach it.
    expect(await view(`ws://127.0.0.1:${port}`, { origin: 'http://evil.example' }).opened).toBe(false);
    expect(await view(`ws://127.0.0.1:${port}`, { origin: `http://localhost:${port}` }).opened).toBe(true);
    const ipv6 = net.connect({ host: '::1', port });
    expect(await new Promise((resolve) => ipv6.once('connect', () => resolve('connected')).once('error', () => resolve('refused')))).toBe('refused');
    ipv6.destroy();

    const stopped = await server.stop('SIGTERM');
    expect(stopped).toMatchObject({ code: 0, signal: null });
    // Generous (30 s): tells an exit from the inspector holding the process open; bench B3 has the figure.
    expect(stopped.ms).toBeLessThan(LIMITS.shutdownMs);
    // close() lets the last snapshots out before it closes the socket.
    const serverId = actorNamed(viewer.events, 'server')!.sessionId;
    await pollUntil(() => valuesOf(viewer.events, serverId).includes('"stopped"'));
    expectCleanOutput(server);
  });

  it('a bridge port in use costs only the inspector: one warning, and the server runs on', async () => {
    const blocker = net.createServer();
    await listenLocal(blocker);
    cleanups.push(() => new Promise((resolve) => blocker.close(resolve)));
    const port = (blocker.address() as net.AddressInfo).port;
    const home = await cli.tempHome();
    const server = await cli.startServerProcess({ TELEMETRY_HOME: home, TELEMETRY_LOOP_SECONDS: '1' }, {
      args: ['--inspect', '--inspect-port', String(port)],
    });
    expect(inspectorLines(server)).toEqual([
      expect.objectContaining({ level: 40, msg: 'Inspector bridge not started; the server runs without it', port, reason: 'EADDRINUSE' }),
    ]);
    expect(await getJson(`${server.url}/api/health`)).toMatchObject({ status: 200 });
    await pollUntil(async () => ((await getJson(`${server.url}/api/telemetry`)).body as { heartbeats_sent: number }).heartbeats_sent >= 1);
    expect(blocker.listening).toBe(true);
    expect(await server.stop('SIGTERM')).toMatchObject({ code: 0 });
    expectCleanOutput(server);
  });
});

describe('--inspect=ws://URL (connect)', () => {
  it('connects to a running bridge before the machines start, so a viewer sees them from the first event', async () => {
    const port = await freePort();
    const bridge = await startBridge(port, captureLogs().logger);
    cleanups.push(() => bridge.close());
    const viewer = view(bridge.websocketUrl);
    expect(await viewer.opened).toBe(true);

    const home = await cli.tempHome();
    const server = await cli.startServerProcess({ TELEMETRY_HOME: home, TELEMETRY_LOOP_SECONDS: '1' }, {
      args: [`--inspect=ws://127.0.0.1:${port}`],
    });
    expect(inspectorLines(server)).toEqual([
      expect.objectContaining({ level: 30, msg: 'Inspector connected', url: `ws://127.0.0.1:${port}` }),
    ]);
    await expectLiveMachines(viewer);
    expect(viewer.events[0]).toMatchObject({ type: '@xstate.actor', name: 'server' });
    expect(await server.stop('SIGTERM')).toMatchObject({ code: 0 });
    expectCleanOutput(server);
  });

  it('a URL nobody listens on: one warning, the server runs on and exits 0 at once', async () => {
    const port = await freePort();
    const home = await cli.tempHome();
    const server = await cli.startServerProcess({ TELEMETRY_HOME: home }, { args: [`--inspect=ws://127.0.0.1:${port}`] });
    expect(inspectorLines(server)).toEqual([
      expect.objectContaining({ level: 40, msg: 'Inspector not reachable; retrying in the background', url: `ws://127.0.0.1:${port}` }),
    ]);
    expect(await getJson(`${server.url}/api/health`)).toMatchObject({ status: 200 });
    const stopped = await server.stop('SIGTERM');
    expect(stopped).toMatchObject({ code: 0 });
    // Generous (30 s): tells an exit from the inspector holding the process open; bench B3 has the figure.
    expect(stopped.ms).toBeLessThan(LIMITS.shutdownMs);
    expectCleanOutput(server);
  });

  it('close() is quick and ends the retries (nothing connects to the URL afterwards)', async () => {
    const port = await freePort();
    const logs = captureLogs('debug');
    const inspector = await startInspector({ mode: 'connect', url: `ws://127.0.0.1:${port}` }, logs.logger);
    expect(inspector).toBeDefined();
    expect(logs.withMessage('Inspector not reachable')).toHaveLength(1);
    // close() resolves (a hang would hit the test's limit) and cancels the pending retry, as checked below.
    await inspector!.close();

    // The first retry would come about 1 s after the failure: listen there for longer than that.
    let connections = 0;
    const late = net.createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => late.listen(port, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => late.close(resolve)));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(connections).toBe(0);
  });

  it('connects once the bridge comes up after the server, with one info line, and delivers what it queued', async () => {
    const port = await freePort();
    const logs = captureLogs('debug');
    const inspector = (await startInspector({ mode: 'connect', url: `ws://127.0.0.1:${port}` }, logs.logger))!;
    cleanups.push(() => inspector.close());
    const probe = createActor(createMachine({ id: 'probe', initial: 'a', states: { a: { on: { go: 'b' } }, b: {} } }), {
      inspect: inspector.inspect,
    });
    probe.start();
    probe.send({ type: 'go' });

    const bridge = await startBridge(port, logs.logger);
    cleanups.push(() => bridge.close());
    const viewer = view(bridge.websocketUrl);
    expect(await viewer.opened).toBe(true);
    // The first retry is about 1 s after the failure.
    await pollUntil(() => valuesOf(viewer.events, actorNamed(viewer.events, 'probe')?.sessionId).includes('"b"'));
    expect(logs.withMessage('Inspector connected')).toHaveLength(1);
    expect(logs.withMessage('Inspector not reachable')).toHaveLength(1);
  });
});

describe('a late viewer', () => {
  it('gets the registration of every actor first, then the last 200 events, however long the app has run', async () => {
    const port = await freePort();
    const bridge = await startBridge(port, captureLogs().logger);
    cleanups.push(() => bridge.close());
    // The app: registers two actors, then sends far more than 200 snapshots, as a server does in under a minute.
    const app = new WebSocket(bridge.websocketUrl);
    cleanups.push(() => app.close());
    await new Promise((resolve) => app.addEventListener('open', resolve));
    const wire = (event: Partial<WireEvent>) => app.send(JSON.stringify(event));
    wire({ type: '@xstate.actor', sessionId: 'x:0', name: 'server' });
    wire({ type: '@xstate.actor', sessionId: 'x:1', name: 'telemetry', parentId: 'x:0' });
    for (let i = 0; i < 450; i += 1) wire({ type: '@xstate.snapshot', sessionId: 'x:1', snapshot: { value: `s${i}` } });
    // A re-registration replaces the first one rather than adding a second.
    wire({ type: '@xstate.actor', sessionId: 'x:0', name: 'server', definition: 'v2' });
    wire({ type: '@xstate.snapshot', sessionId: 'x:1', snapshot: { value: 'last' } });

    const viewer = view(bridge.websocketUrl);
    expect(await viewer.opened).toBe(true);
    await pollUntil(() => viewer.events.at(-1)?.snapshot?.value === 'last', { timeoutMs: 5_000 });
    expect(viewer.events.slice(0, 2).map((e) => [e.type, e.name])).toEqual([
      ['@xstate.actor', 'telemetry'],
      ['@xstate.actor', 'server'],
    ]);
    expect(viewer.events[1]!.definition).toBe('v2');
    expect(viewer.events.slice(2)).toHaveLength(200);
    expect(viewer.events[2]!.snapshot?.value).toBe('s251');
  });
});

describe('the app-side queue (bridge not up yet)', () => {
  it('is bounded, and keeps every registration, so a bridge that comes up late still learns of each actor', async () => {
    const port = await freePort();
    const logs = captureLogs('debug');
    const inspector = (await startInspector({ mode: 'connect', url: `ws://127.0.0.1:${port}` }, logs.logger))!;
    cleanups.push(() => inspector.close());
    const counter = createActor(createMachine({ id: 'counter', initial: 'a', states: { a: { on: { flip: 'b' } }, b: { on: { flip: 'a' } } } }), {
      inspect: inspector.inspect,
    });
    counter.start();
    // Each flip is an event and a snapshot: far more than the 200 the queue keeps.
    for (let i = 0; i < 300; i += 1) counter.send({ type: 'flip' });

    const bridge = await startBridge(port, logs.logger);
    cleanups.push(() => bridge.close());
    const viewer = view(bridge.websocketUrl);
    expect(await viewer.opened).toBe(true);
    // The first retry is about 1 s after the failure.
    await pollUntil(() => viewer.events.length >= 201, { timeoutMs: 10_000 });
    expect(viewer.events[0]).toMatchObject({ type: '@xstate.actor', name: 'counter' });
    expect(viewer.events.filter((e) => e.type !== '@xstate.actor')).toHaveLength(200);
  });
});

describe('the bridge page', () => {
  it('answers /favicon.ico (and any other path) with 404 JSON, and / with the page naming the hosted inspector', async () => {
    const port = await freePort();
    const bridge = await startBridge(port, captureLogs().logger);
    cleanups.push(() => bridge.close());
    const favicon = await getJson(`${bridge.url}/favicon.ico`);
    expect(favicon).toMatchObject({ status: 404, body: { error: 'Not found', path: '/favicon.ico' } });
    bridge.setConsoleUrl('http://127.0.0.1:4200');
    const page = await (await fetch(`${bridge.url}/`)).text();
    expect(page).toContain('src="https://stately.ai/inspect"');
    expect(page).toContain('href="http://127.0.0.1:4200"');
    expect(page).toContain('cannot be reached');
  });
});
