// The live Stately inspector (--inspect / TELEMETRY_INSPECT): streams the server's actors to a WebSocket bridge.
//
// Off unless asked for. The library's inspector (createInspector from @statelyai/inspect) turns XState's
// inspection events into the Stately wire format; the socket under it is ours (undici's WebSocket) rather
// than createWebSocketInspector's, whose client keeps reconnecting every 5 s after stop(), holding the
// process open, and never says when it cannot connect. Nothing here may stop or slow the server: every
// failure is one warning, and close() is bounded.
import type { createInspector as CreateInspector, StatelyInspectionEvent } from '@statelyai/inspect';
import { WebSocket } from 'undici';
import type { InspectionEvent } from 'xstate';
import { startBridge, within, type InspectorBridge } from './bridge.js';
import { createReplayBuffer } from './replay.js';
import { errorCode } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { redactUrlsIn } from '../../redact.js';
import type { InspectSetting } from '../../settings/index.js';

/** A running inspector: pass `inspect` to createActor; close() once the actor is done. */
export interface RunningInspector {
  inspect: (event: InspectionEvent) => void;
  /** Best effort, resolves within about 200 ms. */
  close(): Promise<void>;
  /** The page to open in a browser (bridge mode only). */
  url?: string;
  /** Tells the bridge page where the server's console is, for its offline message (bridge mode only). */
  setConsoleUrl(url: string): void;
}

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 30_000;
// How long start-up waits to learn whether a connect URL answers (a refused loopback port is instant).
const CONNECT_WAIT_MS = 1_000;
const CLOSE_MS = 200;
// XState also emits @xstate.microstep and @xstate.action, which the inspector's format has no place for.
const FORWARDED = new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot']);

/**
 * Starts the inspector the setting asks for, or resolves to undefined when it is off or the bridge
 * cannot start (after one warning).
 */
export async function startInspector(setting: InspectSetting, logger: Logger): Promise<RunningInspector | undefined> {
  if (setting.mode === 'off') return undefined;
  // Imported here, never required: the package is ESM only, and the CLI's bundle is CommonJS (src/bin.cts).
  const { createInspector } = await import('@statelyai/inspect');
  const log = logger.child({ component: 'inspector' });
  if (setting.mode === 'connect') {
    const socket = createSocket(setting.url, log);
    const opened = await socket.firstOutcome(CONNECT_WAIT_MS);
    const url = redactUrlsIn(setting.url);
    if (opened === true) log.info({ url }, 'Inspector connected');
    else if (opened === false) log.warn({ url }, 'Inspector not reachable; retrying in the background');
    else log.warn({ url, waitedMs: CONNECT_WAIT_MS }, 'Inspector not answering yet; connecting in the background');
    return wrap(socket, createInspector);
  }
  let bridge: InspectorBridge;
  try {
    bridge = await startBridge(setting.port, log);
  } catch (error) {
    const reason = errorCode(error) ?? String(error);
    log.warn({ port: setting.port, reason }, 'Inspector bridge not started; the server runs without it');
    return undefined;
  }
  const socket = createSocket(bridge.websocketUrl, log);
  await socket.firstOutcome(CONNECT_WAIT_MS);
  log.info({ url: bridge.url, websocket: bridge.websocketUrl }, 'Inspector bridge ready; open url in a browser');
  const closeAll = async () => {
    await socket.close();
    await bridge.close();
  };
  return { ...wrap(socket, createInspector), url: bridge.url, setConsoleUrl: bridge.setConsoleUrl, close: () => within(closeAll(), CLOSE_MS) };
}

function wrap(socket: InspectorSocket, createInspector: typeof CreateInspector): RunningInspector {
  const inspector = createInspector({ send: socket.send });
  return {
    inspect: (event) => {
      if (FORWARDED.has(event.type)) inspector.inspect.next?.(event);
    },
    close: () => within(socket.close(), CLOSE_MS),
    setConsoleUrl: () => {},
  };
}

type InspectorSocket = ReturnType<typeof createSocket>;

/**
 * A WebSocket client that queues while closed, reconnects with backoff and never holds the process. The queue
 * is bounded (the last 200 events) but keeps every actor's registration, so a bridge that comes late still
 * learns of the server and telemetry actors.
 */
function createSocket(url: string, log: Logger) {
  const shown = redactUrlsIn(url);
  const queue = createReplayBuffer();
  let socket: WebSocket | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let stopped = false;
  // Once start-up has reported a failure or a slow answer, a later connection is worth one info line.
  let announce = false;
  let outcome: ((opened: boolean) => void) | undefined;

  function connect(): void {
    const ws = new WebSocket(url);
    socket = ws;
    ws.addEventListener('open', () => {
      if (announce) log.info({ url: shown }, 'Inspector connected');
      announce = false;
      failures = 0;
      outcome?.(true);
      for (const message of queue.messages()) ws.send(message);
      queue.clear();
    });
    // 'close' follows every failed or ended connection ('error' adds nothing undici can explain).
    ws.addEventListener('close', () => {
      if (socket === ws) socket = undefined;
      if (stopped) return;
      failures += 1;
      announce = true;
      outcome?.(false);
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (failures - 1));
      log.debug({ url: shown, delay }, 'Inspector connection closed; retrying');
      retryTimer = setTimeout(connect, delay);
      retryTimer.unref();
    });
  }

  function send(event: StatelyInspectionEvent): void {
    const message = toJson(event);
    if (message === undefined) return log.debug({ type: event.type }, 'Inspection event not serialisable; dropped');
    if (socket?.readyState === WebSocket.OPEN) return socket.send(message);
    queue.add(message);
  }

  /** Resolves true once open, false on the first failure, undefined if neither happened within ms. */
  function firstOutcome(ms: number): Promise<boolean | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        outcome = undefined;
        announce = true;
        resolve(undefined);
      }, ms);
      outcome = (opened) => {
        clearTimeout(timer);
        outcome = undefined;
        resolve(opened);
      };
    });
  }

  async function close(): Promise<void> {
    // The library converts events on a 0 ms timer; let the last ones (the final snapshots) reach the socket.
    await new Promise((resolve) => setTimeout(resolve, 0));
    stopped = true;
    clearTimeout(retryTimer);
    const ws = socket;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => ws.addEventListener('close', () => resolve()));
    ws.close();
    await closed;
  }

  connect();
  return { send, firstOutcome, close };
}

/**
 * JSON text of an inspection event, with every URL in it redacted (the machine's context and input hold the
 * endpoint as configured, secrets included: this is the edge where they would leave the process); Errors
 * keep their message; undefined if it cannot be serialised.
 */
function toJson(event: StatelyInspectionEvent): string | undefined {
  try {
    return JSON.stringify(event, (_key, value: unknown) => {
      if (typeof value === 'string') return redactUrlsIn(value);
      if (typeof value === 'bigint') return value.toString();
      if (value instanceof Error) return { ...value, name: value.name, message: value.message };
      return value;
    });
  } catch {
    return undefined;
  }
}
