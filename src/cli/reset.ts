// `telemetry-actor reset`: forgets the session; the next heartbeat (of a running server, or after a start) creates a new one.
import type { Settings } from '../settings/index.js';
import { owner, withHomeStorage, type Io } from './io.js';

export async function resetCommand(settings: Settings, io: Io): Promise<number> {
  const server = await owner(settings);
  const existed =
    server !== undefined
      ? await server.resetSession()
      : ((await withHomeStorage(settings, (storage) => storage.sessions.reset(), true)) ?? false);
  io.out(existed ? 'Session forgotten: the next heartbeat creates a new one.' : 'No session was stored; nothing to reset.');
  return 0;
}
