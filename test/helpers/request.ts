// One HTTP request with full control of its headers (Host, Origin, Sec-Fetch-*), which fetch would not allow.
import http from 'node:http';
import { LIMITS } from '../harness/limits.js';

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: Record<string, unknown> | undefined;
}

export interface RawRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The client's own address (e.g. 127.0.0.7): a second loopback client. */
  localAddress?: string;
}

/** Sends one request to `url` (path and query included) and reads the whole answer; rejects after LIMITS.requestMs. */
export function request(url: string, options: RawRequest = {}): Promise<RawAnswer> {
  // Framed by its length: Node sends a DELETE's body unframed otherwise (no chunking for DELETE).
  const length = options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) };
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers: { ...length, ...options.headers }, localAddress: options.localAddress, agent: false, timeout: LIMITS.requestMs },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('error', reject).on('end', () => {
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${LIMITS.requestMs} ms`)));
    req.on('error', reject).end(options.body);
  });
}

/** The first response head and body a raw exchange produced: for requests no client library would send. */
export async function rawRequest(port: number, text: string): Promise<{ statusLine: string; head: string; body: string }> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${LIMITS.requestMs} ms: ${received}`)), LIMITS.requestMs);
    socket.setEncoding('latin1').on('data', (chunk: string) => {
      received += chunk;
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = received.slice(0, end);
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? '0');
      if (received.length < end + 4 + length) return;
      clearTimeout(timer);
      socket.destroy();
      resolve({ statusLine: head.split('\r\n')[0] ?? '', head, body: received.slice(end + 4, end + 4 + length) });
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('connect', () => socket.write(text));
  });
}
