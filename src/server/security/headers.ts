// The headers every answer of the server carries, whatever it is: no content sniffing, no framing.
import type { ServerResponse } from 'node:http';

/** Sets them on `res` (a later writeHead keeps them). */
export function setSafetyHeaders(res: ServerResponse): void {
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
}
