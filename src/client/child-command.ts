/**
 * `keep-open HOST -- CMD ARGS...`: the command keep-open holds the door open for. It is run from
 * its argv (never through a shell), with keep-open's stdin, stdout and stderr, and keep-open ends
 * with its exit status, as env(1) and timeout(1) do: the command's code, 128 + the signal number
 * when a signal ended it, 127 when CMD does not exist, 126 when it cannot be run.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { KnockgateError } from '../core/errors.js';

/** Resolves once the command runs; KG_COMMAND_NOT_FOUND / KG_COMMAND_NOT_RUN when it cannot. */
export function startCommand(argv: readonly string[]): Promise<ChildProcess> {
  const [file, ...args] = argv;
  if (file === undefined) throw new KnockgateError('KG_USAGE', 'no command given after --');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'inherit', shell: false });
    child.once('spawn', () => resolve(child));
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return; // a later error (a failed kill): the exit says the rest
      reject(
        new KnockgateError(
          err.code === 'ENOENT' ? 'KG_COMMAND_NOT_FOUND' : 'KG_COMMAND_NOT_RUN',
          `cannot run ${JSON.stringify(file)}: ${err.code === 'ENOENT' ? 'no such command' : (err.code ?? err.message)}`,
        ),
      );
    });
  });
}

/** The status a shell would report for a process that ended this way. */
export function exitStatusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal === null ? undefined : constants.signals[signal];
  return 128 + (n ?? 0);
}

/** Resolves with the command's exit status once it has ended. */
export function commandEnded(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve(exitStatusOf(child.exitCode, child.signalCode));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(exitStatusOf(code, signal))));
}
