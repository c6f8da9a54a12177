// A loopback endpoint in this process that reads each request and never answers (B2, B3), or answers 204
// (B8), and tells when each request arrives and when its socket closes.
import http from 'node:http';

/** Starts the endpoint; `answer` false leaves every request hanging until the client gives up. */
export async function startRecordingEndpoint({ answer = false } = {}) {
  const waiting = [];
  const server = http.createServer((req, res) => {
    const arrivedAt = performance.now();
    const closed = new Promise((resolve) => req.socket.once('close', () => resolve(performance.now())));
    req.resume();
    if (answer) req.on('end', () => res.writeHead(204).end());
    waiting.shift()?.({ arrivedAt, closed });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    /** Resolves with { arrivedAt, closed } for the next request to arrive (call before triggering it). */
    nextRequest: () => new Promise((resolve) => waiting.push(resolve)),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
