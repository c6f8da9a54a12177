// The local inspector bridge: relays inspection events between this app and the browser tabs, on loopback only.
//
// Built on `ws` rather than @statelyai/inspect/server: that one listens on every interface, gives no handle
// to its HTTP server, throws EADDRINUSE as an uncaught exception, replays only its last 200 events (a late
// viewer never learns of long-lived actors) and serves its page for every path. The bridge relays machine
// context (the session id among it) to anyone connected, so it stays on loopback, refuses other web origins,
// and a busy port costs only the inspector.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { REFUSALS } from '../../errors.js';
import { sendRefusal } from '../../httpJson.js';
import type { Logger } from '../../logger.js';
import { setSafetyHeaders } from '../security/headers.js';
import { createHostPolicy } from '../security/hosts.js';
import { bridgePage } from './bridgePage.js';
import { createReplayBuffer } from './replay.js';

const LOOPBACK = '127.0.0.1';
/** The largest message the bridge relays; a larger one closes its sender's connection (ws answers 1009). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
// The bridge answers only loopback names: a page on a name rebound to 127.0.0.1 reads nothing (DNS rebinding).
const hosts = createHostPolicy({ listenHost: LOOPBACK, allowed: [] });

/** A listening bridge: the page to open in a browser and the WebSocket the app connects to. */
export interface InspectorBridge {
  /** The bridge page (it embeds https://stately.ai/inspect and feeds it the relayed events). */
  url: string;
  websocketUrl: string;
  /** Where the server's console is, for the page's offline message (known once the server listens). */
  setConsoleUrl(url: string): void;
  /** Stops listening and drops every connection; resolves within about 200 ms. */
  close(): Promise<void>;
}

/**
 * Starts the bridge on 127.0.0.1:port (no browser is opened). Rejects, with the listen error, when the
 * port is taken; nothing is left listening then.
 */
export async function startBridge(port: number, logger: Logger): Promise<InspectorBridge> {
  const url = `http://${LOOPBACK}:${port}`;
  const websocketUrl = `ws://${LOOPBACK}:${port}`;
  let consoleUrl: string | undefined;
  const server = createServer((req, res) => servePage(req, res, websocketUrl, consoleUrl));
  const relay = createRelay();
  server.on('upgrade', guardUpgrades(port, relay.wss));
  try {
    await listening(server, port);
  } catch (error) {
    relay.wss.close();
    throw error;
  }
  // Later server errors are rare (e.g. EMFILE on accept); they must not crash the process.
  server.on('error', (err) => logger.debug({ err }, 'Inspector bridge error'));
  return {
    url,
    websocketUrl,
    setConsoleUrl: (value) => void (consoleUrl = value),
    close: () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // ws leaves open connections alive on close; a browser tab would hold the listener.
      for (const client of relay.wss.clients) client.terminate();
      relay.wss.close();
      server.closeAllConnections();
      return within(closed, 200);
    },
  };
}

function servePage(req: IncomingMessage, res: ServerResponse, websocketUrl: string, consoleUrl: string | undefined): void {
  setSafetyHeaders(res);
  if (!hosts.allows(req.headers.host)) return sendRefusal(res, REFUSALS.hostNotAllowed(req.headers.host));
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/') return sendRefusal(res, REFUSALS.notFound, { path });
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendRefusal(res, REFUSALS.methodNotAllowed(req.method), { allow: 'GET' }, { allow: 'GET' });
  const html = bridgePage(websocketUrl, consoleUrl);
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : html);
}

/** Relays each message to every other client; a new client first gets the replay (registrations, then recent events). */
function createRelay(): { wss: WebSocketServer } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const replay = createReplayBuffer();
  wss.on('connection', (ws) => {
    for (const message of replay.messages()) ws.send(message);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const message = data.toString();
      replay.add(message);
      for (const client of wss.clients) if (client !== ws && client.readyState === WebSocket.OPEN) client.send(message);
    });
    // A client that goes away mid-frame must not become an unhandled 'error'.
    ws.on('error', () => ws.terminate());
  });
  return { wss };
}

/** Refuses WebSocket upgrades from other web origins (any page in the user's browser could otherwise read the relayed events). */
function guardUpgrades(port: number, wss: WebSocketServer) {
  const allowed = new Set([`http://${LOOPBACK}:${port}`, `http://localhost:${port}`]);
  return (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const origin = req.headers.origin;
    // Node clients (this app) send no Origin; the bridge page sends its own.
    if ((origin !== undefined && !allowed.has(origin)) || !hosts.allows(req.headers.host)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
}

function listening(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen({ port, host: LOOPBACK }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Waits for `promise`, but no longer than `ms`: shutdown must not wait on the inspector. */
export function within(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    void promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}
