// Types for net.js: ports and the one polling helper.
export interface LocalListener {
  listen(port: number, host: string, callback: () => void): unknown;
  address(): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
  off?(event: 'error', listener: (error: Error) => void): unknown;
}
/** Starts `server` on 127.0.0.1 at a port the system picks; resolves with that port. */
export declare function listenLocal(server: LocalListener): Promise<number>;
/** A port on 127.0.0.1 that nothing listens on: bound, then closed again. */
export declare function freePort(): Promise<number>;
export interface PollOptions<T> {
  /** When to stop; default: once `read` gives true. */
  until?: (value: T) => boolean;
  /** Default LIMITS.waitMs: tells "finished" from "hung". */
  timeoutMs?: number;
  /** Default 25 ms. */
  everyMs?: number;
}
/** Calls `read` until `until` holds for its value (default: until it is true); returns that value. */
export declare function pollUntil<T>(read: () => T | Promise<T>, options?: PollOptions<T>): Promise<T>;
