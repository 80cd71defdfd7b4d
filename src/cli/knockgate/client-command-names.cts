/**
 * The names of the commands client-commands.ts registers. Kept apart, with no imports, because the
 * `knockgate` entry reads it before loading anything: a first argument named here is run by the
 * bundled client program (dist/src/cli/knockgate-client.cjs). test/unit/client-program.test.ts
 * checks that this list and the commands registered agree.
 */
export const CLIENT_COMMANDS: readonly string[] = ['knock', 'connect', 'keep-open', 'profile', 'passphrase'];
