// A TCP proxy on 127.0.0.1 for fault tests: it sits between a client and a server (the telemetry actor and the
// collector, the collector and PostgreSQL, a client and a fleet behind a round-robin balancer) and decides the
// fate of each exchange (one request and its reply) when the request's first bytes arrive. Nothing parses the
// protocol: an exchange starts with the first bytes the client sends after the previous reply began, which holds
// for HTTP/1.1 without pipelining (undici's default) and for PostgreSQL's query-then-answer messages.
import net from 'node:net';
import { listenLocal } from '../harness/net.js';

/**
 * What becomes of an exchange: passed on both ways; `reset`, the client's connection reset before a byte of the
 * request is forwarded (the server never sees it); `dropReply`, the request forwarded and the client's connection
 * reset once the server's reply starts (the server did the work, the client never hears of it).
 */
export type Fate = 'pass' | 'reset' | 'dropReply';

/** One request and what became of its reply, as the proxy saw them. */
export interface Exchange {
  /** The connection it travelled on (1, 2, ... in accept order) and the server port that connection went to. */
  connection: number;
  port: number;
  /** The request's first bytes: an HTTP request head, a PostgreSQL message. */
  request: Buffer;
  fate: Fate;
  /** The first bytes of the server's reply, when one came (an HTTP status line: see {@link statusOf}); a dropped reply, whole. */
  reply?: Buffer;
  /** True once those bytes were passed on to the client. */
  delivered: boolean;
}

export interface TcpProxyOptions {
  /** The server's port on 127.0.0.1, or a function asked once per connection (a balancer's choice). */
  target: number | (() => number);
  /** Decides each exchange from its first bytes; default: every exchange passes. */
  decide?: (request: Buffer) => Fate;
  /**
   * For `dropReply`: whether the reply read so far is whole (a PostgreSQL reply ends with ReadyForQuery); the
   * proxy reads on until it is, so `reply` holds all of it. Default: its first bytes are enough (an HTTP status).
   */
  replyComplete?: (reply: Buffer) => boolean;
}

export interface TcpProxy {
  port: number;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Every exchange so far, in the order they started. */
  exchanges: Exchange[];
  /** Where new connections go from now on (a restarted server's new port). */
  retarget(target: number | (() => number)): void;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1:0 in front of `options.target`. */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  let target = options.target;
  const decide = options.decide ?? (() => 'pass' as const);
  const exchanges: Exchange[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => {}).once('close', () => sockets.delete(socket));
    return socket;
  };

  const server = net.createServer((client) => {
    const port = typeof target === 'function' ? target() : target;
    const pipe = { connection: ++connections, port, client: track(client), upstream: track(net.connect(port, '127.0.0.1')) };
    relay(pipe, { decide, complete: options.replyComplete ?? (() => true) }, (exchange) => exchanges.push(exchange));
  });
  const port = await listenLocal(server);
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    exchanges,
    retarget: (next) => void (target = next),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

interface Pipe {
  connection: number;
  port: number;
  client: net.Socket;
  upstream: net.Socket;
}

/** Relays one connection, exchange by exchange; a fault resets the client and drops the server's side. */
interface Rules {
  decide: (request: Buffer) => Fate;
  complete: (reply: Buffer) => boolean;
}

function relay({ connection, port, client, upstream }: Pipe, { decide, complete }: Rules, started: (exchange: Exchange) => void): void {
  let current: Exchange | undefined;
  let replying = false;
  const held: Buffer[] = [];
  const cut = () => {
    if (!client.destroyed) client.resetAndDestroy();
    upstream.destroy();
  };
  client.once('close', () => upstream.destroy());
  upstream.once('close', () => client.destroy());
  upstream.once('end', () => client.end());
  upstream.once('connect', () => {
    for (const chunk of held.splice(0)) upstream.write(chunk);
  });
  client.on('data', (chunk: Buffer) => {
    if (current === undefined || replying) {
      current = { connection, port, request: chunk, fate: decide(chunk), delivered: false };
      replying = false;
      started(current);
      if (current.fate === 'reset') return cut();
    }
    if (upstream.connecting) held.push(chunk);
    else upstream.write(chunk);
  });
  upstream.on('data', (chunk: Buffer) => {
    if (current !== undefined && !replying) {
      current.reply = current.reply === undefined ? chunk : Buffer.concat([current.reply, chunk]);
      if (current.fate === 'dropReply') return void (complete(current.reply) && cut());
      replying = true;
      current.delivered = true;
    }
    client.write(chunk);
  });
}

/** The status code of an exchange's HTTP reply, when one came. */
export function statusOf(exchange: Exchange): number | undefined {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(exchange.reply?.toString('latin1') ?? '');
  return match === null ? undefined : Number(match[1]);
}

/** The idempotency-key header of an HTTP request (its first bytes, or its exchange), when it had one. */
export function keyOf(request: Exchange | Buffer): string | undefined {
  const head = Buffer.isBuffer(request) ? request : request.request;
  return /\r\nidempotency-key: *([^\r\n]+)/i.exec(head.toString('latin1'))?.[1];
}
