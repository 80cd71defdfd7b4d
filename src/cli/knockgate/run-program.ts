/**
 * Runs a knockgate program: builds the commander program, lets `addCommands` declare its commands,
 * parses argv and maps what escapes to an exit status. Shared by the whole tool (all-commands.ts)
 * and the client-only program (knockgate-client.ts, the bundle behind `knock`/`connect` and the
 * single executable), so both answer usage errors, --version and failures in the same way:
 * a usage error exits 64 with commander's message; a KnockgateError prints its message and exits
 * with its code's status; anything else is an internal error (70) with its stack.
 */

import { Command, CommanderError } from 'commander';
import { EXIT, KnockgateError } from '../../core/errors.js';
import { VERSION } from '../../version.js';

export function runProgram(description: string, addCommands: (program: Command) => void, argv: string[]): void {
  const program = new Command()
    .name('knockgate')
    .description(description)
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  addCommands(program);
  program.parseAsync(argv).catch((err: unknown) => {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : EXIT.USAGE);
    if (err instanceof KnockgateError) {
      process.stderr.write(`knockgate: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`knockgate: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(EXIT.SOFTWARE);
  });
}
