// The local inspector bridge: @statelyai/inspect's relay server, held to loopback and made to fail softly.
//
// Why the wrapping: createInspectorServer (0.7.x) listens on every interface, gives no handle to its HTTP
// server, and lets an EADDRINUSE escape as an uncaught exception. The bridge relays machine context (the
// session id among it) to anyone connected, so it must stay on loopback, and a busy port must only cost
// the inspector, never the server.
import type { IncomingMessage, Server } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { createInspectorServer } from '@statelyai/inspect/server';
import type { Logger } from '../../logger.js';

// The CommonJS exports object that the library's `import http from "node:http"` also sees, so that
// createServer can be swapped on it for the one synchronous call that builds the bridge.
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');

const LOOPBACK = '127.0.0.1';

/** A listening bridge: the page to open in a browser and the WebSocket the app connects to. */
export interface InspectorBridge {
  /** The bridge page (it embeds https://stately.ai/inspect and feeds it the relayed events). */
  url: string;
  websocketUrl: string;
  /** Stops listening and drops every connection; resolves within about 200 ms. */
  close(): Promise<void>;
}

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * Starts the bridge on 127.0.0.1:port (no browser is opened). Rejects, with the listen error, when the
 * port is taken; nothing is left listening then.
 */
export async function startBridge(port: number, logger: Logger): Promise<InspectorBridge> {
  const { server, stop } = buildBridge(port);
  const sockets = guardUpgrades(server, port);
  try {
    await listening(server);
  } catch (error) {
    stop();
    throw error;
  }
  // Later server errors are rare (e.g. EMFILE on accept); they must not crash the process.
  server.on('error', (err) => logger.debug({ err }, 'Inspector bridge error'));
  return {
    url: `http://${LOOPBACK}:${port}`,
    websocketUrl: `ws://${LOOPBACK}:${port}`,
    close: () => {
      const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
      stop();
      // ws 8 leaves open connections alive on close; a browser tab would hold the listener.
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      return within(closed, 200);
    },
  };
}

/** Runs createInspectorServer with createServer swapped, to keep its HTTP server and bind it to loopback. */
function buildBridge(port: number): { server: Server; stop: () => void } {
  const original = http.createServer;
  let captured: Server | undefined;
  http.createServer = ((...args: Parameters<typeof original>) => {
    const server = original(...args);
    captured ??= server;
    const listen = server.listen.bind(server);
    server.listen = (() => listen({ port, host: LOOPBACK })) as Server['listen'];
    return server;
  }) as typeof original;
  let bridge: { stop(): void };
  try {
    bridge = createInspectorServer({ port, autoOpen: false });
  } finally {
    http.createServer = original;
  }
  if (captured === undefined) {
    bridge.stop();
    throw new Error('@statelyai/inspect/server no longer builds its server with node:http createServer');
  }
  // Drops ws's re-emitter: with no listener on the WebSocketServer, a listen error would be thrown.
  captured.removeAllListeners('error');
  return { server: captured, stop: () => bridge.stop() };
}

/**
 * Refuses WebSocket upgrades from other web origins (any page in the user's browser could otherwise read
 * the relayed events), and tracks accepted sockets so close() can cut them.
 */
function guardUpgrades(server: Server, port: number): Set<Duplex> {
  const allowed = new Set([`http://${LOOPBACK}:${port}`, `http://localhost:${port}`]);
  const relay = server.listeners('upgrade') as UpgradeListener[];
  const sockets = new Set<Duplex>();
  server.removeAllListeners('upgrade');
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const origin = req.headers.origin;
    // Node clients (this app) send no Origin; the bridge page sends its own.
    if (origin !== undefined && !allowed.has(origin)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    for (const listener of relay) listener.call(server, req, socket, head);
  });
  return sockets;
}

function listening(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    if (server.listening) return resolve();
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
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
