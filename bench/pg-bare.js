// B9's baseline: the least work that is still durable and acknowledged. A hand-written node:http server that
// queues each POST body, writes each group (what arrived during the previous write, at most 1,000) with one
// multi-row INSERT into a plain table, and answers 202 after the commit. No validation, no counters, no keys.
// `node bench/pg-bare.js <postgres-url>`; forked by B9, it sends { port } over IPC once it listens.
import http from 'node:http';
import pg from 'pg';

const MAX_GROUP = 1000;
const ACCEPTED = '{"status":"accepted"}';

const client = new pg.Client({ connectionString: process.argv[2] });
await client.connect();
await client.query('CREATE TABLE IF NOT EXISTS bare_heartbeats (received_at timestamptz NOT NULL, body text NOT NULL)');

const queue = [];
let writing = false;

async function drain() {
  writing = true;
  while (queue.length > 0) {
    const group = queue.splice(0, MAX_GROUP);
    try {
      await client.query('INSERT INTO bare_heartbeats (received_at, body) SELECT now(), b FROM unnest($1::text[]) AS b', [group.map((p) => p.body)]);
      for (const p of group) p.res.writeHead(202, { 'content-type': 'application/json' }).end(ACCEPTED);
    } catch {
      for (const p of group) p.res.writeHead(503).end();
    }
  }
  writing = false;
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    queue.push({ body: Buffer.concat(chunks).toString('utf8'), res });
    if (!writing) void drain();
  });
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void client.end().finally(() => process.exit(0));
});
