// Types for requests.js: a timed POST on its own connection, and a process's resident memory.

export interface Answer {
  /** The HTTP status; 0 when the request failed or was not answered in time. */
  status: number;
  ms: number;
  retryAfter?: string;
}

/** POSTs body as JSON on a new connection; never rejects. */
export declare function postAlone(url: string, body: string, options?: { timeoutMs?: number; headers?: Record<string, string> }): Promise<Answer>;
/** VmRSS of a process, in bytes. */
export declare function rssBytes(pid: number): Promise<number>;
