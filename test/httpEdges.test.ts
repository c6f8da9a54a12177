// HTTP edges the parser and the body limit meet, over raw sockets to the real server on 127.0.0.1:
// every refusal is the API's JSON error, a 413 comes before `100 Continue`, and a 413 closes the connection
// without reading the rest of the body.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleHeartbeat } from './helpers/fixtures.js';
import { createCliSandbox, type ServerProcess } from './helpers/cli.js';
import { LIMITS } from './harness/limits.js';

const cli = createCliSandbox();
let server: ServerProcess;
let port: number;
beforeAll(async () => {
  server = await cli.startServerProcess({ TELEMETRY_HOME: await cli.tempHome() }, { args: ['--no-telemetry'] });
  port = Number(new URL(server.url).port);
}, LIMITS.testMs);
afterAll(async () => {
  expect(await server.stop()).toMatchObject({ code: 0 });
  expect(server.stderr()).toBe('');
  await cli.cleanup();
});

interface RawExchange {
  /** Everything the server wrote, as text. */
  text: string;
  /** How the connection ended: `end` (the server closed it with a FIN) or the first socket error code (ECONNRESET, EPIPE). */
  ending: string;
}

/**
 * Opens a socket, lets `talk` write to it, and collects what comes back until the connection ends.
 * LIMITS.requestMs tells a server that never closes from one that does (it closes within milliseconds).
 */
function exchange(talk: (socket: net.Socket, received: () => string) => unknown): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    let settled = false;
    let ending: string | undefined;
    const finish = (how: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, ending: ending ?? how });
    };
    const timer = setTimeout(() => finish(`still open after ${LIMITS.requestMs} ms`), LIMITS.requestMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    // Waits for 'close', not 'end': a reset that follows the server's FIN (the client still writing) counts.
    socket.on('end', () => (ending ??= 'end'));
    socket.on('error', (error: NodeJS.ErrnoException) => (ending ??= error.code ?? error.message));
    socket.on('close', () => finish('close'));
    socket.once('connect', () => void talk(socket, () => text));
  });
}

/** The status line and the JSON body of the first response in `text`. */
function firstResponse(text: string): { statusLine: string; headers: string; body: unknown } {
  const [head = '', rest = ''] = text.split('\r\n\r\n');
  const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? '0');
  const raw = rest.slice(0, length);
  let body: unknown = raw;
  try {
    body = JSON.parse(raw);
  } catch {
    // Not JSON: kept as text, and the assertion below says so.
  }
  return { statusLine: head.split('\r\n')[0] ?? '', headers: head, body };
}

describe('parser-level rejections are JSON errors', { timeout: LIMITS.testMs }, () => {
  it('headers over the 16 KiB limit: 431 as JSON, then the connection closes', async () => {
    const result = await exchange((socket) => socket.write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    const response = firstResponse(result.text);
    expect(response.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(response.headers).toMatch(/content-type: application\/json/i);
    expect(response.body).toEqual({ error: expect.stringContaining('header') });
    expect(result.ending).toBe('end');
  });

  it('both Content-Length and Transfer-Encoding: 400 as JSON', async () => {
    const result = await exchange((socket) =>
      socket.write('POST /api/collector HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'),
    );
    const response = firstResponse(result.text);
    expect(response.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(response.headers).toMatch(/content-type: application\/json/i);
    expect(response.body).toEqual({ error: expect.any(String) });
  });
});

describe('Expect: 100-continue', { timeout: LIMITS.testMs }, () => {
  it('a declared 10 MB body: 413 and no `100 Continue` first', async () => {
    const result = await exchange((socket) =>
      socket.write(
        'POST /api/collector HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\nExpect: 100-continue\r\n\r\n',
      ),
    );
    expect(result.text).not.toContain('100 Continue');
    const response = firstResponse(result.text);
    expect(response.statusLine).toBe('HTTP/1.1 413 Payload Too Large');
    expect(response.body).toEqual({ error: 'Body larger than 16384 bytes' });
  });

  it('a small body still gets `100 Continue`, then 202', async () => {
    const body = JSON.stringify(sampleHeartbeat());
    const result = await exchange((socket, received) => {
      socket.write(
        `POST /api/collector HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
      );
      const wait = setInterval(() => {
        if (!received().includes('100 Continue')) return;
        clearInterval(wait);
        socket.write(body);
      }, 10);
    });
    expect(result.text.startsWith('HTTP/1.1 100 Continue\r\n\r\n')).toBe(true);
    expect(result.text).toContain('HTTP/1.1 202 Accepted');
  });
});

describe('an oversized chunked body', { timeout: LIMITS.testMs }, () => {
  it('from a client that writes it all before reading: the connection is closed at once, unread, and on Linux the client sees the reset', async () => {
    const result = await exchange(async (socket) => {
      socket.write('POST /api/collector HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
      // A client that writes its whole request before it reads (as simple clients do): 512 KiB in 4 KiB
      // chunks, a little at a time, and reads only 300 ms later.
      socket.pause();
      const chunk = `1000\r\n${'x'.repeat(4096)}\r\n`;
      for (let i = 0; i < 128 && !socket.destroyed; i += 1) {
        socket.write(chunk);
        if (i % 16 === 15) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      if (!socket.destroyed) socket.write('0\r\n\r\n');
      await new Promise((resolve) => setTimeout(resolve, 300));
      socket.resume();
    });
    expect(result.ending).not.toMatch(/still open/);
    // The server stopped reading at the limit and closed with the client's bytes unread, so the kernel reset the
    // connection: Linux reports it to this writer (EPIPE, or ECONNRESET) before the 413 waiting unread on this side
    // is read. A client that reads as it writes sees the 413 (test/collectorInput.test.ts).
    if (process.platform === 'linux') expect(['EPIPE', 'ECONNRESET']).toContain(result.ending);
    if (result.text !== '') expect(firstResponse(result.text).statusLine).toBe('HTTP/1.1 413 Payload Too Large');
  });
});
