// A bare loopback endpoint in its own process, so the measured process pays only the client's side.
// `node bench/endpoint.js 204` answers 204; `202` answers 202 {"status":"accepted"} (B7's baseline).
import { fork } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ACCEPTED = JSON.stringify({ status: 'accepted' });

function serve(mode) {
  const server = http.createServer((req, res) => {
    // Read the whole body, as a real endpoint must, before answering.
    req.on('data', () => {});
    req.on('end', () => {
      if (mode === '202') {
        res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ACCEPTED) });
        res.end(ACCEPTED);
      } else {
        res.writeHead(204);
        res.end();
      }
    });
  });
  server.keepAliveTimeout = 10_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
  // Never outlive the bench: the parent's exit closes the IPC channel.
  process.on('disconnect', () => process.exit(0));
}

/** Forks the endpoint process; resolves with its origin and a close function. */
export function startEndpoint(mode = '204') {
  const child = fork(fileURLToPath(import.meta.url), [mode], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('endpoint did not start within 10 s'));
    }, 10_000);
    child.once('error', reject);
    child.once('message', ({ port }) => {
      clearTimeout(timer);
      resolve({
        origin: `http://127.0.0.1:${port}`,
        pid: child.pid,
        close: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

if (process.argv[1] !== undefined && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  serve(process.argv[2] ?? '204');
}
