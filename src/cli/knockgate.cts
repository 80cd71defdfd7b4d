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
 *
 * The shape, for start-up time (ssh's ProxyCommand pays it on every connection; docs/benchmarks.md):
 * - Each command is declared in its own file under cli/knockgate/ (addXCommand(program): its
 *   arguments, options and action), as before.
 * - Client commands (knock, connect, keep-open, profile, passphrase) are registered in
 *   cli/knockgate/client-commands.ts, and their names listed in
 *   cli/knockgate/client-command-names.cts; every other command is registered in
 *   cli/knockgate/all-commands.ts (which also registers the client commands, for --help).
 * - This entry is CommonJS (no ES module loader to start) and reads only the list of names. For a
 *   client command it runs dist/src/cli/knockgate-client.cjs (client-bundle.cts): the client
 *   program, knockgate-client.ts, bundled by esbuild at `npm run build` into one file with
 *   commander and yaml inlined, compiled from the V8 code cache the build wrote beside it. No
 *   config schema (zod), QR code or daemon code is read. For anything else (--help, --version, the
 *   admin commands) it imports the whole tool (all-commands.ts) as ES modules.
 * - A new client command: register it in client-commands.ts and add its name to
 *   client-command-names.cts (test/unit/client-program.test.ts checks that the two agree). Any
 *   other command: register it in all-commands.ts.
 * Both programs run through cli/knockgate/run-program.ts, which maps errors to exit statuses:
 * bad arguments exit 64 with a message that names the argument.
 */

import { join } from 'node:path';
import { runClientBundle } from './client-bundle.cjs';
import { CLIENT_COMMANDS } from './knockgate/client-command-names.cjs';

const command = process.argv[2];
if (command !== undefined && CLIENT_COMMANDS.includes(command)) {
  runClientBundle(join(__dirname, 'knockgate-client.cjs'));
} else {
  void import('./knockgate/run-program.js').then(async ({ runProgram }) => {
    const { addAllCommands } = await import('./knockgate/all-commands.js');
    runProgram('knockgate client and admin tool', addAllCommands, process.argv);
  });
}
