/**
 * The client's commands: what a user's machine runs to reach a server (no configuration of a
 * daemon, no control socket, no native part). They are registered by the whole tool
 * (all-commands.ts) and by the client-only program (../knockgate-client.ts) that is bundled into
 * dist/src/cli/knockgate-client.cjs (the fast start-up path of `knockgate knock`/`connect`) and
 * into the single executable (npm run build:client-binary).
 *
 * To add a client command: write its addXCommand in its own file here, call it below, and add its
 * name to CLIENT_COMMANDS in client-command-names.ts (a unit test checks the two lists agree). Its code
 * must bundle without native parts (esbuild, CommonJS, built-in modules only at run time).
 */

import type { Command } from 'commander';
import { addConnectCommand } from './connect.js';
import { addKeepOpenCommand } from './keep-open.js';
import { addKnockCommand } from './knock.js';
import { addPassphraseCommand } from './passphrase.js';
import { addProfileCommands } from './profile.js';

/** Each client command's registration, in the order `knockgate --help` lists them. */
const CLIENT_COMMAND_ADDERS: ReadonlyMap<string, (program: Command) => void> = new Map([
  ['knock', addKnockCommand],
  ['connect', addConnectCommand],
  ['keep-open', addKeepOpenCommand],
  ['profile', addProfileCommands],
  ['passphrase', addPassphraseCommand],
]);

/**
 * Registers the client commands on `program`: all of them, or, when `only` names one, just that
 * one. The client program passes the command it was started for (argv[2]), so that a knock, which
 * ssh's ProxyCommand starts on every connection, does not build the other commands and their
 * options first (about 1 ms); its own `--help` and errors are the same, since they are about it
 * alone. Anything else (no command, `--help`, an unknown name: the single executable's cases)
 * registers them all, for the list and the suggestions.
 */
export function addClientCommands(program: Command, only?: string): void {
  const one = only === undefined ? undefined : CLIENT_COMMAND_ADDERS.get(only);
  if (one !== undefined) one(program);
  else for (const add of CLIENT_COMMAND_ADDERS.values()) add(program);
}
