// Requests and readings shared by the load tests and the bench: one POST on a connection of its own (as one
// sender of a fleet makes), timed, and a process's resident memory.
// Plain ESM JavaScript (typed by requests.d.ts) so bench/*.js can import it without a build step.
import http from 'node:http';
import { readFile } from 'node:fs/promises';

/**
 * POSTs `body` as JSON to url on a new connection; resolves with the status (0 when the request failed or was
 * not answered within timeoutMs), the milliseconds it took, and the Retry-After header.
 */
export function postAlone(url, body, { timeoutMs = 60_000, headers = {} } = {}) {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (status, retryAfter) => resolve({ status, ms: performance.now() - started, retryAfter });
    const req = http.request(url, { method: 'POST', agent: false, timeout: timeoutMs, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0, res.headers['retry-after']));
      res.on('error', () => done(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(0));
    req.end(body);
  });
}

/** Resident set size of a process now, in bytes (VmRSS). */
export async function rssBytes(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) * 1024;
}
