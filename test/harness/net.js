// Ports and waiting, for tests and bench: a loopback port nothing listens on, a server listening on a fresh
// one, and the one polling helper. Plain ESM JavaScript (typed by net.d.ts), like the rest of the harness.
import { createServer } from 'node:net';
import { LIMITS } from './limits.js';

/**
 * Starts `server` (node:net, node:http, ws ...) on 127.0.0.1 at a port the system picks; resolves with that port.
 * @param {{ listen: Function, address: Function, once: Function }} server
 */
export async function listenLocal(server) {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off?.('error', reject);
      resolve();
    });
  });
  return server.address().port;
}

/**
 * A port on 127.0.0.1 that nothing listens on: bound, then closed again. For a server started on it next, or
 * for a connection that must be refused (nothing will take it, short of another process picking it meanwhile).
 */
export async function freePort() {
  const server = createServer();
  const port = await listenLocal(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `read` every `everyMs` until `until` holds for what it gives (by default: until it gives true); returns
 * that value, or throws with the last one after `timeoutMs` (a "finished" vs "hung" bound, LIMITS.waitMs).
 */
export async function pollUntil(read, { until = (value) => value === true, timeoutMs = LIMITS.waitMs, everyMs = 25 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (until(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await sleep(everyMs);
  }
}
