#!/usr/bin/env node
// The `telemetry-actor` program: runs the CLI and exits with its code.
import { main } from './cli/main.js';

const code = await main(process.argv.slice(2));
// Exit at once: a command must not linger on keep-alive sockets; stdout and pino are written synchronously.
process.exit(code);
