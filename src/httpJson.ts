// JSON answers for the reference server's HTTP API: one place that sets the type and the length.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { REFUSALS, type Refusal } from './errors.js';

/** Largest request body the API accepts (a heartbeat), in bytes; larger ones get 413. */
export const MAX_BODY_BYTES = 16 * 1024;

/** application/json, with no parameter but an optional utf-8 charset. */
export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  // What every client we know sends: answered without splitting the header.
  if (value === 'application/json') return true;
  const [type, ...params] = value.split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((p) => p === '' || p === 'charset=utf-8' || p === 'charset="utf-8"');
}

const TOO_LARGE = REFUSALS.tooLarge(MAX_BODY_BYTES);
const TOO_LARGE_TEXT = JSON.stringify({ error: TOO_LARGE.error });

/**
 * Answers 413 and closes the connection without taking the rest of the body: reading stops here, and the
 * socket is closed as soon as the answer is handed to the kernel (before Node would resume reading to drain a
 * body it thinks is wanted). What the client still sends is never read, so the kernel resets the connection: a
 * client that reads while it writes sees the 413 first (then ECONNRESET or EPIPE); one that writes its whole
 * body before reading may see only the reset.
 */
export function refuseTooLarge(req: IncomingMessage, res: ServerResponse): void {
  sendJsonText(res, TOO_LARGE.status, TOO_LARGE_TEXT, { connection: 'close' });
  closeUnread(req, res);
}

/**
 * After a refusal answered without reading the body (or all of it): reading stops, and the connection closes once
 * the answer is out, so a client streaming a body to a refused request never makes the server read (and Node
 * drain) it to the end.
 */
export function closeUnread(req: IncomingMessage, res: ServerResponse): void {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;
  if (!hasBody || req.complete) return;
  req.pause();
  req.socket.pause();
  if (res.writableFinished) req.socket.destroy();
  else res.once('finish', () => req.socket.destroy());
}

/**
 * Writes `body` as JSON with the given status, content-type application/json and content-length.
 * RFC 8259 makes JSON UTF-8 and application/json defines no charset, so none is added.
 * Does nothing if the response has already ended (e.g. the client went away mid-request).
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  if (res.writableEnded || res.destroyed) return;
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** Answers a refusal (src/errors.ts REFUSALS) as `{ error, ...fields }`, with its Retry-After if it has one. */
export function sendRefusal(res: ServerResponse, refusal: Refusal, fields?: object, headers: OutgoingHttpHeaders = {}): void {
  const retry = refusal.retryAfter === undefined ? headers : { ...headers, 'retry-after': String(refusal.retryAfter) };
  sendJson(res, refusal.status, fields === undefined ? { error: refusal.error } : { error: refusal.error, ...fields }, retry);
}

/** As {@link sendJson}, for a body already serialised (a constant answer on a hot path is made once). */
export function sendJsonText(res: ServerResponse, status: number, text: string, headers?: OutgoingHttpHeaders): void {
  sendText(res, status, 'application/json', text, headers);
}

/** Writes `text` with the given status, content-type and content-length; nothing if the response has ended. */
export function sendText(res: ServerResponse, status: number, contentType: string, text: string, headers?: OutgoingHttpHeaders): void {
  if (res.writableEnded || res.destroyed) return;
  if (res.headersSent) {
    // Too late for a status line: end what was started rather than write a second response.
    res.end();
    return;
  }
  const length = Buffer.byteLength(text);
  res.writeHead(
    status,
    headers === undefined
      ? { 'content-type': contentType, 'content-length': length }
      : { ...headers, 'content-type': contentType, 'content-length': length },
  );
  res.end(text);
}
