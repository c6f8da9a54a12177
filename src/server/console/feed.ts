// The console's live updates: a Server-Sent Events stream that pushes the telemetry status whenever it changes.
//
// One stream per open console tab. A change of the telemetry actor's snapshot sends `event: telemetry` (the
// exact GET /api/telemetry body) and, when the session is known, `event: preview` (the exact heartbeat body);
// a heartbeat received by the collector sends `event: collector` (GET /api/collector/stats), at most once a
// second. A comment line every 15 s keeps proxies from cutting an idle stream. The browser's EventSource
// reconnects by itself after a server restart (`retry:` tells it how soon). A client that stops reading is
// dropped once MAX_STREAM_BACKLOG_BYTES wait for it: it reconnects, and a new stream starts with the whole picture.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Heartbeat } from '../../heartbeat.js';
import type { Logger } from '../../logger.js';
import type { CollectorStats } from '../../stores/index.js';
import type { TelemetryStatus } from '../status.js';

/** What the feed reads on each change. */
export interface FeedSource {
  telemetryStatus(): TelemetryStatus;
  /** The heartbeat body the actor sends now, or null before it has a session (or when telemetry is off). */
  preview(): Heartbeat | null;
  /** Present when the collector is served. */
  collectorStats?: () => Promise<CollectorStats>;
  logger: Logger;
}

/** A live-updates stream: mount `handle` on GET, call `changed()` on every snapshot, `collected()` per heartbeat. */
export interface ConsoleFeed {
  handle(req: IncomingMessage, res: ServerResponse): void;
  changed(): void;
  collected(): void;
  /** True while a console is connected: the collector's hot path skips the feed otherwise. */
  watching(): boolean;
  /** Ends every stream (the server is shutting down) and stops the timers. */
  close(): void;
}

/** Bytes a stream may hold unsent (Node's buffers, not the kernel's) before its client is dropped. */
export const MAX_STREAM_BACKLOG_BYTES = 1024 * 1024;
const PING_MS = 15_000;
const RETRY_MS = 1_000;
// The collector can take tens of thousands of heartbeats a second; the charts need a fresh total once a second.
const STATS_EVERY_MS = 1_000;

/** Creates the feed; nothing runs until a client connects. */
export function createConsoleFeed(source: FeedSource): ConsoleFeed {
  const log = source.logger.child({ component: 'console' });
  const clients = new Set<ServerResponse>();
  const last = new Map<string, string>();
  let statsTimer: NodeJS.Timeout | undefined;

  const frame = (event: string, data: string) => `event: ${event}\ndata: ${data}\n\n`;

  /** Writes to one stream; one whose client has stopped reading is cut rather than left to grow. */
  function send(res: ServerResponse, text: string): void {
    if (!clients.has(res)) return;
    res.write(text);
    if (res.writableLength <= MAX_STREAM_BACKLOG_BYTES) return;
    clients.delete(res);
    log.warn({ backlogBytes: res.writableLength }, 'Console stream dropped: its client stopped reading');
    res.destroy();
  }
  const broadcast = (text: string) => clients.forEach((res) => send(res, text));

  /** Sends `event` to every client when its data differs from what was last sent. */
  function publish(event: string, data: unknown): void {
    const json = JSON.stringify(data);
    if (last.get(event) === json) return;
    last.set(event, json);
    broadcast(frame(event, json));
  }

  function changed(): void {
    if (clients.size === 0) return last.clear();
    publish('telemetry', source.telemetryStatus());
    const preview = source.preview();
    if (preview !== null) publish('preview', preview);
  }

  async function sendStats(target?: ServerResponse): Promise<void> {
    if (source.collectorStats === undefined) return;
    try {
      const json = JSON.stringify(await source.collectorStats());
      if (target !== undefined) return send(target, frame('collector', json));
      last.set('collector', json);
      broadcast(frame('collector', json));
    } catch (error) {
      log.warn({ err: error }, 'Collector stats unavailable for the console');
    }
  }

  function collected(): void {
    if (clients.size === 0 || statsTimer !== undefined) return;
    statsTimer = setTimeout(() => {
      statsTimer = undefined;
      void sendStats();
    }, STATS_EVERY_MS);
    statsTimer.unref();
  }

  const ping = setInterval(() => broadcast(': ping\n\n'), PING_MS);
  ping.unref();

  function handle(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    if (req.method === 'HEAD') return void res.end();
    clients.add(res);
    req.once('close', () => clients.delete(res));
    // A new tab gets the whole picture at once, whatever the others were last sent.
    const status = source.telemetryStatus();
    const preview = source.preview();
    send(res, `retry: ${RETRY_MS}\n\n${frame('telemetry', JSON.stringify(status))}`);
    if (preview !== null) send(res, frame('preview', JSON.stringify(preview)));
    last.set('telemetry', JSON.stringify(status));
    if (preview !== null) last.set('preview', JSON.stringify(preview));
    void sendStats(res);
  }

  function close(): void {
    clearInterval(ping);
    clearTimeout(statsTimer);
    for (const res of clients) res.end();
    clients.clear();
  }

  return { handle, changed, collected, watching: () => clients.size > 0, close };
}
