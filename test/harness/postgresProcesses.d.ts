// Types for postgresProcesses.js: a local PostgreSQL server's processes, from its data folder.

/** The postmaster's pid, from <dataDir>/postmaster.pid. */
export declare function postmasterPid(dataDir: string): Promise<number>;
/** The postmaster and every child it forked, postmaster first. */
export declare function postgresPids(dataDir: string): Promise<number[]>;
/** Sends `signal` to every process of the server; resolves with their pids. */
export declare function signalPostgres(dataDir: string, signal: NodeJS.Signals): Promise<number[]>;
/** CPU milliseconds the server has used so far (live processes plus children it collected). */
export declare function postgresCpuMs(dataDir: string): Promise<number>;
