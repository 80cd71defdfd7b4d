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

export function addClientCommands(program: Command): void {
  addKnockCommand(program);
  addConnectCommand(program);
  addKeepOpenCommand(program);
  addProfileCommands(program);
  addPassphraseCommand(program);
}
