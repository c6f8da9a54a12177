// The processes of one local PostgreSQL server (the postmaster and every child it forked), found from its data
// folder, for the stalled-database tests (SIGSTOP/SIGCONT) and for bench B9's PostgreSQL CPU time.
// Plain ESM JavaScript (typed by postgresProcesses.d.ts) so bench/*.js can import it without a build step.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux everywhere). */
const TICKS_PER_SECOND = 100;

/** The postmaster's pid, the first line of <dataDir>/postmaster.pid. */
export async function postmasterPid(dataDir) {
  const text = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
  const pid = Number(text.split('\n')[0]);
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`no postmaster pid in ${dataDir}/postmaster.pid`);
  return pid;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): [state, ppid, ...]. */
async function statFields(pid) {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** The postmaster and its children (backends, checkpointer, WAL writer, ...), postmaster first. */
export async function postgresPids(dataDir) {
  const root = await postmasterPid(dataDir);
  const children = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    // A process may end between the listing and the read.
    const fields = await statFields(entry).catch(() => undefined);
    if (fields !== undefined && Number(fields[1]) === root) children.push(Number(entry));
  }
  return [root, ...children];
}

/** Sends `signal` to the server's every process (SIGSTOP stalls it entirely: no statement runs, no timeout fires in it). */
export async function signalPostgres(dataDir, signal) {
  const pids = await postgresPids(dataDir);
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (error) {
      if (error.code !== 'ESRCH') throw error;
    }
  }
  return pids;
}

/**
 * CPU milliseconds the whole server has used so far: its live processes' user + system time, plus what the
 * postmaster has collected from children that ended (a backend of a closed connection). Read twice, the
 * difference is the server's work in between, whatever connections opened and closed meanwhile.
 */
export async function postgresCpuMs(dataDir) {
  const [root, ...children] = await postgresPids(dataDir);
  const rootFields = await statFields(root);
  // utime, stime, cutime, cstime are fields 14-17 of stat, 11-14 after the command name.
  let ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(rootFields[i]), 0);
  for (const pid of children) {
    const fields = await statFields(pid).catch(() => undefined);
    if (fields !== undefined) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}
