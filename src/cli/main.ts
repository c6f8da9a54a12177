// The telemetry-actor command line: parses arguments, loads settings, runs one command, exits 0, 1 or 2.
import { parseArgs } from 'node:util';
import { UserError } from '../errors.js';
import { didYouMean } from '../suggest.js';
import { VERSION } from '../version.js';
import { commandHelp, COMMANDS, mainHelp, type CommandSpec, type OptionSpec } from './commands.js';
import type { Io } from './io.js';

const io: Io = { out: (line) => process.stdout.write(`${line}\n`), err: (line) => process.stderr.write(`${line}\n`) };

const isHelp = (arg: string | undefined) => arg === '-h' || arg === '--help' || arg === 'help';

/** Runs the CLI with the given arguments (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.out(mainHelp());
    return 2;
  }
  // `-h status` asks for the same page as `status -h`.
  if (isHelp(name)) return rest[0] === undefined ? (io.out(mainHelp()), 0) : main([rest[0], '--help']);
  if (name === '-v' || name === '--version') {
    io.out(VERSION);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.err(`telemetry-actor: unknown command "${name}"${didYouMean(name, COMMANDS.map((c) => c.name))}; see telemetry-actor --help`);
    return 2;
  }
  return runCommand(command, rest);
}

/** The first `--flag` that the command does not know, with a suggestion; parseArgs would only say "unknown". */
function unknownFlag(args: string[], options: Record<string, OptionSpec>): string | undefined {
  const known = [...Object.keys(options), 'help'];
  for (const arg of args) {
    if (arg === '--') return undefined;
    if (!arg.startsWith('--')) continue;
    const name = arg.slice(2).split('=')[0] ?? '';
    if (!known.includes(name)) return `unknown option --${name}${didYouMean(name, known, '--')}`;
  }
  return undefined;
}

async function runCommand(command: CommandSpec, args: string[]): Promise<number> {
  // Loaded here, not at start: `--version` and the main help answer without the settings table.
  const settingsModule = await import('../settings/index.js');
  const options = command.options(settingsModule);
  if (args.includes('--help') || args.includes('-h')) {
    io.out(commandHelp(command, options));
    return 0;
  }
  const unknown = unknownFlag(args, options);
  if (unknown !== undefined) {
    io.err(`telemetry-actor ${command.name}: ${unknown}; see telemetry-actor ${command.name} --help`);
    return 2;
  }
  try {
    // parseArgs has no optional values: a bare --inspect means "start a local bridge".
    const normalised = args.map((arg) => (arg === '--inspect' ? '--inspect=true' : arg));
    const parseOptions = Object.fromEntries(Object.entries(options).map(([name, option]) => [name, { type: option.type }]));
    const { values } = parseArgs({ args: normalised, options: parseOptions, strict: true, allowPositionals: false });
    const flags = values as Record<string, string | boolean | undefined>;
    const settings = settingsModule.loadSettings(process.env, flags);
    // One line, after the settings loaded: a bad value's error stays the only line when start-up stops.
    const mistyped = settingsModule.mistypedWarning(process.env);
    if (mistyped !== undefined) io.err(`telemetry-actor: warning: ${mistyped}`);
    return await command.run(settings, flags, io);
  } catch (error) {
    return reportError(error, command.name);
  }
}

function reportError(error: unknown, command: string): number {
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
