// Where a command's lines go: its result to `out`, messages to `err`.

/** Where a command writes: `out` for its result, `err` for messages. */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}
