#!/usr/bin/env node
/**
 * knockgate: the client and admin tool.
 *   knock HOST [STEP...]     a classic sequence (steps given), or SPA (a credential or profile)
 *   connect HOST PORT        SPA, wait for the port, relay stdin/stdout (ssh ProxyCommand)
 *   keep-open HOST           SPA, again before each grant runs out (boot-time clients, sshfs)
 *   keygen                   the server's key pair
 *   add-client NAME          a client credential and the server-side entry for it
 *   profile add|list|show    the client's profiles (credentials knocked by name)
 *   passphrase FILE          protect a client credential with a passphrase, change or remove it
 *   import FILE              knockd.conf or access.conf to knockgate YAML
 *   status, grants           what a running knockgated does, who holds access (control socket)
 *   revoke, extend, open     change grants in a running knockgated
 *   audit                    the audit trail: every grant, extension, expiry, revocation
 *   reload                   have it read its configuration again
 *   completion bash          a bash completion script
 * One file per command group under cli/knockgate/; this one builds the program and maps errors to
 * exit statuses. Bad arguments exit 64 with a message that names the argument.
 */

import { Command, CommanderError } from 'commander';
import { EXIT, KnockgateError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { addAuditCommand } from './knockgate/audit.js';
import { addCompletionCommand } from './knockgate/completion.js';
import { addConnectCommand } from './knockgate/connect.js';
import { addImportCommand } from './knockgate/import.js';
import { addKeepOpenCommand } from './knockgate/keep-open.js';
import { addKnockCommand } from './knockgate/knock.js';
import { addOperateCommands } from './knockgate/operate.js';
import { addProfileCommands } from './knockgate/profile.js';
import { addPassphraseCommand } from './knockgate/passphrase.js';
import { addProvisioningCommands } from './knockgate/provisioning.js';

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('knockgate')
    .description('knockgate client and admin tool')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  addKnockCommand(program);
  addConnectCommand(program);
  addKeepOpenCommand(program);
  addProvisioningCommands(program);
  addProfileCommands(program);
  addPassphraseCommand(program);
  addImportCommand(program);
  addOperateCommands(program);
  addAuditCommand(program);
  addCompletionCommand(program); // last: it is written from every command registered above

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : EXIT.USAGE);
    throw err;
  }
}

main(process.argv).catch((err: unknown) => {
  if (err instanceof KnockgateError) {
    process.stderr.write(`knockgate: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`knockgate: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(EXIT.SOFTWARE);
});
