// A scripted endpoint for tests (not the reference server): a real node:http server on 127.0.0.1:0 that records
// every request and answers as each test scripts it.
import http from 'node:http';
import type { Socket } from 'node:net';
import { LIMITS } from '../harness/limits.js';
import { listenLocal, pollUntil } from '../harness/net.js';

/** One request as the server saw it. */
export interface RecordedRequest {
  method: string;
  /** Path and query, as sent on the request line. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The raw request body (utf8), fully read before the handler runs. */
  body: string;
  /** Date.now() when the body had been read. */
  receivedAt: number;
  /** Resolves with Date.now() when the request's socket closes. */
  socketClosed: Promise<number>;
}

/**
 * Answers one request. The body has already been read into `recorded.body`; a handler that never
 * calls `res.end()` leaves the client waiting (the server destroys such sockets on close()).
 */
export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, recorded: RecordedRequest) => void | Promise<void>;

export interface TestEndpoint {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  origin: string;
  port: number;
  /** Every request so far, in arrival order. */
  requests: RecordedRequest[];
  /** Queues handlers for the next requests, one each; after the queue the default handler answers. */
  script(...handlers: Handler[]): void;
  /** Replaces the default handler (initially `reply(200)`). */
  setDefault(handler: Handler): void;
  /** Resolves once `count` requests have arrived; rejects after timeoutMs. */
  waitForRequests(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** Closes the listener and destroys every open socket (keep-alive or stalled). */
  close(): Promise<void>;
}

/** Starts a recording endpoint on 127.0.0.1 with a random port. */
export async function startEndpoint(defaultHandler: Handler = reply(200)): Promise<TestEndpoint> {
  const requests: RecordedRequest[] = [];
  const queue: Handler[] = [];
  const sockets = new Set<Socket>();
  let fallback = defaultHandler;

  // One 'close' listener per socket, shared by the requests a keep-alive socket carries (one per request
  // passed Node's limit of 10 and printed a MaxListenersExceededWarning).
  const closedAt = new WeakMap<Socket, Promise<number>>();
  const socketClosed = (socket: Socket): Promise<number> => {
    let closed = closedAt.get(socket);
    if (closed === undefined) {
      closed = new Promise<number>((resolve) => {
        if (socket.destroyed) resolve(Date.now());
        else socket.once('close', () => resolve(Date.now()));
      });
      closedAt.set(socket, closed);
    }
    return closed;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
        socketClosed: socketClosed(req.socket),
      };
      requests.push(recorded);
      const handler = queue.shift() ?? fallback;
      Promise.resolve(handler(req, res, recorded)).catch(() => res.destroy());
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const port = await listenLocal(server);

  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    script: (...handlers) => queue.push(...handlers),
    setDefault: (handler) => {
      fallback = handler;
    },
    waitForRequests: (count, timeoutMs = LIMITS.waitMs) => pollUntil(() => requests.length >= count, { timeoutMs, everyMs: 10 }).then(() => requests),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A handler answering `status` with an optional body and headers. */
export function reply(status: number, body = '', headers: http.OutgoingHttpHeaders = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  };
}

/** A handler that never answers: the client sees neither headers nor body. */
export function never(): Handler {
  return () => {};
}

/** A handler that sends the status line and headers at once, then never sends or ends the body. */
export function headersOnly(status = 200): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.flushHeaders();
    res.write('partial');
  };
}

/**
 * A handler streaming `totalBytes` of filler while honouring backpressure, chunked unless
 * `contentLength` is set; `progress.written` tells how much the client drained before it hung up.
 */
export function streamBytes(
  totalBytes: number,
  progress: { written: number } = { written: 0 },
  options: { contentLength?: boolean } = {},
): Handler {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  return (_req, res) => {
    const length = options.contentLength === true ? { 'content-length': String(totalBytes) } : {};
    res.writeHead(200, { 'content-type': 'application/octet-stream', ...length });
    const pump = () => {
      while (progress.written < totalBytes && !res.destroyed) {
        const part = chunk.subarray(0, Math.min(chunk.length, totalBytes - progress.written));
        progress.written += part.length;
        if (!res.write(part)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    res.on('error', () => {});
    pump();
  };
}

