// B8's baseline: the least a process can do to send a first heartbeat: open LevelDB, one undici POST.
// `node bench/b8-bare.js <home> <url>`
import path from 'node:path';
import { Level } from 'level';
import { request } from 'undici';

const [home, url] = process.argv.slice(2);
const db = new Level(path.join(home, 'db'));
await db.open();
const response = await request(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ source: 'telemetry_actor', type: 'heartbeat', payload: { session_id: crypto.randomUUID() } }),
});
await response.body.dump();
await db.close();
process.exit(response.statusCode < 300 ? 0 : 1);
