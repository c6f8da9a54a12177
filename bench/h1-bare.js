// H1 and H3's baseline: the least a server with a LevelDB can be. Opens <home>/db, listens on 127.0.0.1
// with node:http answering {"status":"ok"}, and logs one JSON line `Server listening` like ours does.
// `node bench/h1-bare.js <home> [port]` (port 0 or none: any free one); runs until SIGTERM.
import http from 'node:http';
import path from 'node:path';
import { Level } from 'level';

const [home, port = '0'] = process.argv.slice(2);
const db = new Level(path.join(home, 'db'), { valueEncoding: 'utf8' });
await db.open();
const OK = JSON.stringify({ status: 'ok' });
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(OK) });
  res.end(OK);
});
server.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'Server listening', url: `http://127.0.0.1:${server.address().port}` })}\n`);
});
process.on('SIGTERM', () => server.close(() => db.close().then(() => process.exit(0))));
