// Where a command's lines go: its result to `out`, messages to `err`; for the process, straight to fds 1 and 2.
import { errorCode } from '../errors.js';
import { fs } from '../nodeFs.js';

/** Where a command writes: `out` for its result, `err` for messages. */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Descriptors that once refused a write (non-blocking and full): from then on their stream, so lines keep their order. */
const streamed = new Set<1 | 2>();

/** One line on fd 1 or 2, written before this returns (a command exits right after its last line). */
function writeLine(fd: 1 | 2, line: string): void {
  const stream = () => (fd === 1 ? process.stdout : process.stderr);
  const data = Buffer.from(`${line}\n`);
  if (streamed.has(fd)) return void stream().write(data);
  let offset = 0;
  try {
    while (offset < data.length) offset += fs.writeSync(fd, data, offset);
  } catch (error) {
    const code = errorCode(error);
    // The reader went away (`status | head -1`): nothing more to say to it.
    if (code === 'EPIPE') return;
    if (code !== 'EAGAIN') throw error;
    streamed.add(fd);
    stream().write(data.subarray(offset));
  }
}

/**
 * The process's Io. Written with writeSync rather than process.stdout: the stream would load Node's stream
 * modules (about 3 ms of CPU, 6% of a bare `node -e 0`) to write the few lines a command prints (H2).
 */
export const processIo: Io = { out: (line) => writeLine(1, line), err: (line) => writeLine(2, line) };
