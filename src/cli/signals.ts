// The signals that stop the server cleanly: one list, for the server command and its help.

/**
 * SIGHUP (the terminal went away, or a manager's reload) and SIGUSR2 (nodemon's restart) used to kill the
 * process outright and leave server.json behind; a server with no configuration to reload treats them like SIGTERM.
 */
export const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR2'] as const;
