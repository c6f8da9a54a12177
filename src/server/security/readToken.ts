// The read token (TELEMETRY_READ_TOKEN): when set, every read needs `Authorization: Bearer <token>`.
//
// A browser's EventSource cannot send that header, and a token in the stream's URL would end up in proxy
// logs and the browser's history. So the console trades its header for a stream ticket (POST
// /api/events/ticket): random, good for one connection, and only for STREAM_TICKET_MS.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** How long a stream ticket may wait to be used. */
export const STREAM_TICKET_MS = 30_000;
/** Tickets held unused at most; past it the oldest is dropped (its console asks for another). */
export const MAX_STREAM_TICKETS = 1_000;

/** Who may read: `required` is false when no token is set (then every read is open, as before). */
export interface ReadAccess {
  required: boolean;
  /** True when the request carries the token (or none is required). */
  allows(req: IncomingMessage): boolean;
  /** As allows, or a valid ticket in the query (used up by this call). */
  allowsStream(req: IncomingMessage, query: string): boolean;
  /** A new stream ticket. */
  ticket(): string;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Compares in constant time: both sides are hashed first, so neither the length nor the first differing
 * byte of a guess shows in how long the answer takes.
 */
export function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

export function createReadAccess(options: { token: string | undefined; now?: () => number }): ReadAccess {
  const now = options.now ?? Date.now;
  const tickets = new Map<string, number>();
  if (options.token === undefined) {
    return { required: false, allows: () => true, allowsStream: () => true, ticket: () => randomBytes(18).toString('base64url') };
  }
  const expected = digest(options.token);
  const allows = (req: IncomingMessage): boolean => {
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
    return match !== null && sameSecret(match[1]!, expected);
  };
  return {
    required: true,
    allows,
    allowsStream(req, query) {
      if (allows(req)) return true;
      const ticket = new URLSearchParams(query).get('ticket');
      if (ticket === null) return false;
      const expires = tickets.get(ticket);
      tickets.delete(ticket);
      return expires !== undefined && expires > now();
    },
    ticket() {
      const at = now();
      for (const [ticket, expires] of tickets) if (expires <= at || tickets.size >= MAX_STREAM_TICKETS) tickets.delete(ticket);
      const ticket = randomBytes(18).toString('base64url');
      tickets.set(ticket, at + STREAM_TICKET_MS);
      return ticket;
    },
  };
}
