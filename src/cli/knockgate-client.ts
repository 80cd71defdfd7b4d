/**
 * The client-only knockgate program: the client commands (knockgate/client-commands.ts) and
 * nothing else. It is not run from dist/ directly: `npm run build` bundles it with esbuild into one
 * CommonJS file, dist/src/cli/knockgate-client.cjs, which the `knockgate` entry (knockgate.ts)
 * loads for a client command (one file to read and compile instead of a hundred modules, and no
 * config schema, QR code or control-socket code), and which is the main script of the single
 * executable (scripts/build-client-binary.ts). So this file, and all it imports, must need only
 * Node's built-in modules at run time and no native part.
 */

import { addClientCommands } from './knockgate/client-commands.js';
import { runProgram } from './knockgate/run-program.js';

runProgram(
  'knockgate client: knock, connect for ssh, profiles',
  (program) => addClientCommands(program, process.argv[2]),
  process.argv,
);
