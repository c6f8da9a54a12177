// The HTTP edges before the API handler: parser-level rejections and `Expect: 100-continue`, answered as
// the API answers everything else (JSON with a message), never as Node's bare defaults.
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { MAX_BODY_BYTES, refuseTooLarge } from '../httpJson.js';

/** What the parser's error codes mean for the client: the status and the message. */
function rejection(code: string | undefined, reason: string | undefined): [number, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request header fields too large'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'Chunk extensions too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request timed out'];
    default:
      return [400, `Bad request${reason === undefined ? '' : `: ${reason}`}`];
  }
}

/**
 * Answers a request Node's parser refused (431 for huge headers, 400 for Content-Length with
 * Transfer-Encoding or any malformed request, 408 for the header timeout) with a JSON error, then closes.
 */
function onClientError(error: Error & { code?: string; reason?: string }, socket: Duplex): void {
  // A reset or a socket already half gone has no one left to read an answer.
  if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  const [status, message] = rejection(error.code, error.reason);
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json\r\nx-content-type-options: nosniff\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * Installs the edges on `server`: JSON for parser rejections, and for `Expect: 100-continue` the guard's
 * refusal (a Host not allowed, another site) or a 413 when the declared body is over the limit, both before
 * any `100 Continue` (the client then never sends the body).
 */
export function installHttpEdges(
  server: Server,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  admit: (req: IncomingMessage, res: ServerResponse) => unknown,
): void {
  server.on('clientError', onClientError);
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    // Refused before the body comes: the connection closes rather than wait for a body it would have to read.
    const keepAlive = res.shouldKeepAlive;
    res.shouldKeepAlive = false;
    if (admit(req, res) === undefined) return;
    res.shouldKeepAlive = keepAlive;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) return refuseTooLarge(req, res);
    res.writeContinue();
    handler(req, res);
  });
}
