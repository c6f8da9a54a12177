// The telemetry-actor command line: parses arguments, loads settings, runs one command, exits 0, 1 or 2.
import { parseArgs } from 'node:util';
import { UserError } from '../errors.js';
import type { serverFlagOptions } from '../settings/index.js';
import { VERSION } from '../version.js';
import type { Io } from './io.js';
import { didYouMean } from './suggest.js';

const MAIN_HELP = `Usage: telemetry-actor <command> [options]

Anonymous heartbeat telemetry for Node.js servers, as an XState v5 actor.

Commands:
  server    Run the reference server: HTTP API, collector and the telemetry actor
  status    Show whether telemetry is on, which setting decided, the session and the endpoint
  preview   Print the exact heartbeat that would be sent; sends nothing, writes nothing
  send      Send one heartbeat now; exit 0 on a 2xx answer, 1 with the reason otherwise
  reset     Forget the anonymous session; the next heartbeat creates a new one

Options:
  -h, --help     Show this help; \`telemetry-actor <command> --help\` (or \`--help <command>\`) for a command
  -v, --version  Print the version

Settings come from TELEMETRY_* variables (DO_NOT_TRACK=1 turns telemetry off); see docs/settings.md.
Exit codes: 0 ok, 1 failure, 2 bad usage or settings.`;

/** The command help texts; the server's lists its flags from the settings table, loaded only for a command. */
const helpTexts = (serverFlagHelp: () => string): Record<string, string> => ({
  server: `Usage: telemetry-actor server [--host H] [--port N] [--no-telemetry] [--inspect[=HOST:PORT]] [--inspect-port N]
                              [--database-url URL]

Runs the reference server until SIGINT or SIGTERM (a second signal exits at once with 1).
Serves /api/health, /api/services, /api/telemetry and, unless TELEMETRY_ENDPOINT points elsewhere,
the collector at /api/collector, to which its own telemetry reports. Logs go to stdout: pretty lines
in a terminal, pino JSON otherwise (TELEMETRY_LOG_LEVEL=debug adds a line per heartbeat).

Options:
${serverFlagHelp()}`,
  status: `Usage: telemetry-actor status [--json]

Shows whether telemetry is on and which setting decided, the session id, the endpoint, and the live
state from the server running on this TELEMETRY_HOME (else what its database holds).

Options:
  --json  Print the status as JSON (the shape of GET /api/telemetry, plus "server")`,
  preview: `Usage: telemetry-actor preview

Prints the exact JSON body of the next heartbeat to stdout (where it would go, on stderr).
Sends nothing and writes nothing: with no stored session it shows a made-up one.`,
  send: `Usage: telemetry-actor send

Sends one heartbeat now to the configured endpoint (default: the local server's collector).
Exits 0 on a 2xx answer, 1 with the reason otherwise, and 1 when telemetry is turned off. When nothing
answers at the endpoint, it says how to start a server or set TELEMETRY_ENDPOINT, and writes no session.`,
  reset: `Usage: telemetry-actor reset

Forgets the anonymous session stored in TELEMETRY_HOME (or TELEMETRY_DATABASE_URL); the next heartbeat
creates a new one, and every running server (or replica) sends it from then on. While a server owns this
home, the command goes through it.`,
});

const commandOptions = (serverOptions: ReturnType<typeof serverFlagOptions>) =>
  ({
    server: serverOptions,
    status: { json: { type: 'boolean' } },
    preview: {},
    send: {},
    reset: {},
  }) as const;

const COMMANDS = ['server', 'status', 'preview', 'send', 'reset'] as const;
type Command = (typeof COMMANDS)[number];

const io: Io = { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) };

const isHelp = (arg: string | undefined) => arg === '-h' || arg === '--help' || arg === 'help';

/** Runs the CLI with the given arguments (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    io.out(MAIN_HELP);
    return 2;
  }
  // `-h status` asks for the same page as `status -h`.
  if (isHelp(command)) return rest[0] === undefined ? (io.out(MAIN_HELP), 0) : main([rest[0], '--help']);
  if (command === '-v' || command === '--version') {
    io.out(VERSION);
    return 0;
  }
  if (!(COMMANDS as readonly string[]).includes(command)) {
    io.err(`telemetry-actor: unknown command "${command}"${didYouMean(command, [...COMMANDS])}; see telemetry-actor --help`);
    return 2;
  }
  return runCommand(command as Command, rest);
}

/** The first `--flag` that `command` does not know, with a suggestion; parseArgs would only say "unknown". */
function unknownFlag(command: Command, args: string[], options: Record<string, unknown>): string | undefined {
  const known = [...Object.keys(options), 'help'];
  for (const arg of args) {
    if (arg === '--') return undefined;
    if (!arg.startsWith('--')) continue;
    const name = arg.slice(2).split('=')[0] ?? '';
    if (!known.includes(name)) return `unknown option --${name}${didYouMean(name, known, '--')}`;
  }
  return undefined;
}

async function runCommand(command: Command, args: string[]): Promise<number> {
  // Loaded here, not at start: `--version` and the main help answer without the settings table.
  const { loadSettings, serverFlagHelp, serverFlagOptions } = await import('../settings/index.js');
  if (args.includes('--help') || args.includes('-h')) {
    io.out(helpTexts(serverFlagHelp)[command] ?? MAIN_HELP);
    return 0;
  }
  const options = commandOptions(serverFlagOptions())[command];
  const unknown = unknownFlag(command, args, options);
  if (unknown !== undefined) {
    io.err(`telemetry-actor ${command}: ${unknown}; see telemetry-actor ${command} --help`);
    return 2;
  }
  try {
    // parseArgs has no optional values: a bare --inspect means "start a local bridge".
    const normalised = args.map((arg) => (arg === '--inspect' ? '--inspect=true' : arg));
    const { values } = parseArgs({ args: normalised, options, strict: true, allowPositionals: false });
    const v = values as Record<string, string | boolean | undefined>;
    const settings = loadSettings(process.env, v);
    switch (command) {
      // Loaded only now: help, a usage error or a bad setting answers without loading xstate, level and undici.
      case 'server':
        return await (await import('./server.js')).serverCommand(settings);
      case 'status':
        return await (await import('./status.js')).statusCommand(settings, v.json === true, io);
      case 'preview':
        return await (await import('./preview.js')).previewCommand(settings, io);
      case 'send':
        return await (await import('./send.js')).sendCommand(settings, io);
      case 'reset':
        return await (await import('./reset.js')).resetCommand(settings, io);
    }
  } catch (error) {
    return reportError(error, command);
  }
}

function reportError(error: unknown, command: Command): number {
  if (error instanceof UserError) {
    io.err(`telemetry-actor: ${error.message}`);
    return error.exitCode;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    io.err(`telemetry-actor ${command}: ${(error as Error).message}; see telemetry-actor ${command} --help`);
    return 2;
  }
  io.err(`telemetry-actor ${command}: ${error instanceof Error ? error.message : String(error)}`);
  return 1;
}
