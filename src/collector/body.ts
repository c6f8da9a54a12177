// Reading a request body within limits: at most the limit is held, and reading stops as soon as it is passed.
import type { IncomingMessage } from 'node:http';

export type BodyResult = { kind: 'ok'; body: Buffer } | { kind: 'too-large' } | { kind: 'aborted' };

/**
 * Reads the body, giving up as soon as it passes `limit`: at most `limit` bytes are ever held, and the request
 * is left paused, so nothing more is read (the caller answers 413 and the connection closes).
 */
export function readLimitedBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyResult): void => {
      req.off('data', onData).off('end', onEnd).off('error', onAborted).off('close', onAborted);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.pause();
      chunks.length = 0;
      finish({ kind: 'too-large' });
    };
    // A heartbeat mostly comes in one chunk, used as it is: Buffer.concat would copy it.
    const onEnd = (): void => {
      const [only] = chunks;
      finish({ kind: 'ok', body: chunks.length === 1 && only !== undefined ? only : Buffer.concat(chunks, size) });
    };
    const onAborted = (): void => finish({ kind: 'aborted' });
    req.on('data', onData).on('end', onEnd).on('error', onAborted).on('close', onAborted);
  });
}
