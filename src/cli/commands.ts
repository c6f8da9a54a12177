// The CLI's commands, each written once: name, summary, help, options and how it runs. The main help, every
// `<command> --help`, the argument parser's options and the README's command table are derived from this table.
// Light on purpose: `--version` and help load it, so a command's own module is imported only when it runs.
import type { CliFlags, Settings } from '../settings/index.js';
import type { Io } from './io.js';
import { SHUTDOWN_SIGNALS } from './signals.js';

/** The settings module: loaded once a command runs, then passed in (the main help and --version answer without it). */
export type SettingsModule = typeof import('../settings/index.js');

/** One option as parseArgs declares it, with how it reads in the usage line and its help line. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** `--port N`, `--json`. */
  usage: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  /** One line: the main help's list and the README's command table. */
  summary: string;
  /** What `<command> --help` says between its usage line and its options. */
  help: string;
  /** Its options by name, without dashes; the server's are the settings table's flags. */
  options(settings: SettingsModule): Record<string, OptionSpec>;
  /** Runs the command; resolves to the exit code. */
  run(settings: Settings, flags: CliFlags, io: Io): Promise<number>;
}

const signals = `${SHUTDOWN_SIGNALS.slice(0, -1).join(', ')} or ${SHUTDOWN_SIGNALS.at(-1)}`;

// Each `run` imports its command's module only then: help, a usage error or a bad setting answers without
// loading xstate, level and undici.
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'server',
    summary: 'Run the reference server: HTTP API, collector and the telemetry actor',
    help: `Runs the reference server until ${signals} (a second signal exits at once with 1).
Serves /api/health, /api/services, /api/telemetry and, unless TELEMETRY_ENDPOINT points elsewhere,
the collector at /api/collector, to which its own telemetry reports. Logs go to stdout: pretty lines
in a terminal, pino JSON otherwise (TELEMETRY_LOG_LEVEL=debug adds a line per heartbeat).`,
    options: (settings) => settings.serverFlags(),
    run: async (settings) => (await import('./server.js')).serverCommand(settings),
  },
  {
    name: 'status',
    summary: 'Show whether telemetry is on, which setting decided, the session and the endpoint',
    help: `Shows whether telemetry is on and which setting decided, the session id (stored, in use or not), the
endpoint, and the live state from the server running on this TELEMETRY_HOME (else what its database holds).`,
    options: () => ({ json: { type: 'boolean', usage: '--json', help: 'Print the status as JSON (the shape of GET /api/telemetry, plus "server")' } }),
    run: async (settings, flags, io) => (await import('./status.js')).statusCommand(settings, flags.json === true, io),
  },
  {
    name: 'preview',
    summary: 'Print the exact heartbeat that would be sent; sends nothing, writes nothing',
    help: `Prints the exact JSON body of the next heartbeat to stdout (where it would go, on stderr).
Sends nothing and writes nothing: with no stored session it shows a made-up one.`,
    options: () => ({}),
    run: async (settings, _flags, io) => (await import('./preview.js')).previewCommand(settings, io),
  },
  {
    name: 'send',
    summary: 'Send one heartbeat now; exit 0 on a 2xx answer, 1 with the reason otherwise',
    help: `Sends one heartbeat now to the configured endpoint (default: the local server's collector).
Exits 0 on a 2xx answer, 1 with the reason otherwise, and 1 when telemetry is turned off. When nothing
answers at the endpoint, it says how to start a server or set TELEMETRY_ENDPOINT, and writes no session.`,
    options: () => ({}),
    run: async (settings, _flags, io) => (await import('./send.js')).sendCommand(settings, io),
  },
  {
    name: 'reset',
    summary: 'Forget the anonymous session; the next heartbeat creates a new one',
    help: `Forgets the anonymous session stored in TELEMETRY_HOME (or TELEMETRY_DATABASE_URL); the next heartbeat
creates a new one, and every running server (or replica sharing the database) sends it from then on.
While a server runs on this home, that server is asked to (it owns the database); else the database is opened.`,
    options: () => ({}),
    run: async (settings, _flags, io) => (await import('./reset.js')).resetCommand(settings, io),
  },
];

/** `telemetry-actor --help`. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 3;
  return `Usage: telemetry-actor <command> [options]

Anonymous heartbeat telemetry for Node.js servers, as an XState v5 actor.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

Options:
  -h, --help     Show this help; \`telemetry-actor <command> --help\` (or \`--help <command>\`) for a command
  -v, --version  Print the version

Settings come from TELEMETRY_* variables (DO_NOT_TRACK=1 turns telemetry off); see docs/settings.md.
Exit codes: 0 ok, 1 failure, 2 bad usage or settings.`;
}

/** Where a usage line wraps, so help reads in a terminal of 100 columns or more. */
const HELP_COLUMNS = 100;

/** `telemetry-actor <name> [--a] [--b N]`, wrapped under its first option when wider than HELP_COLUMNS. */
export function usageLine(command: CommandSpec, options: Record<string, OptionSpec>, wrap = true): string {
  const head = `telemetry-actor ${command.name}`;
  const lines = [head];
  for (const option of Object.values(options)) {
    const word = ` [${option.usage}]`;
    if (wrap && lines.at(-1)!.length + word.length > HELP_COLUMNS - 'Usage: '.length) lines.push(' '.repeat(head.length));
    lines[lines.length - 1] += word;
  }
  return lines.join(`\n${' '.repeat('Usage: '.length)}`);
}

/** `telemetry-actor <name> --help`: usage, what it does, its options. */
export function commandHelp(command: CommandSpec, options: Record<string, OptionSpec>): string {
  const rows = Object.values(options);
  const width = Math.max(0, ...rows.map((o) => o.usage.length)) + 2;
  const optionLines = rows.length === 0 ? '' : `\n\nOptions:\n${rows.map((o) => `  ${o.usage.padEnd(width)}${o.help}`).join('\n')}`;
  return `Usage: ${usageLine(command, options)}\n\n${command.help}${optionLines}`;
}

/** The README's command table (between its markers; `npm run docs` writes it, a test keeps it fresh). */
export function commandsMarkdown(settings: SettingsModule): string {
  const rows = COMMANDS.map((c) => `| \`${usageLine(c, c.options(settings), false)}\` | ${c.summary} |`);
  return ['| command | what it does |', '|---|---|', ...rows].join('\n');
}
