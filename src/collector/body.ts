// Reading a request body within limits: at most the limit is held, and a too-large rest is drained, not reset.
import type { IncomingMessage } from 'node:http';

/**
 * How much of a too-large body is read and dropped before the 413, so the client, still writing, gets an
 * answer and a clean close rather than a reset (which would discard the 413 unread on its side). A body
 * declared, or found, larger than this is cut at once: reading it would cost more than the answer is worth.
 */
export const DRAIN_LIMIT_BYTES = 1024 * 1024;

export type BodyResult = { kind: 'ok'; body: Buffer } | { kind: 'too-large' } | { kind: 'aborted' };

/** Reads the body, giving up as soon as it passes `limit`: at most `limit` bytes are ever held. */
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

/** Reads and drops the rest of the body, up to DRAIN_LIMIT_BYTES; resolves once it ended, was cut or went away. */
export function drainRest(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let drained = 0;
    const done = (): void => {
      req.off('data', onData).off('end', done).off('close', done).off('error', done);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      drained += chunk.length;
      if (drained > DRAIN_LIMIT_BYTES) done();
    };
    req.on('data', onData).on('end', done).on('close', done).on('error', done);
    if (req.readableEnded) done();
    else req.resume();
  });
}

