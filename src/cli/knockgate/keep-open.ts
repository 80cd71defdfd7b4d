/**
 * `knockgate keep-open HOST [-- CMD ARGS...]`: knock with SPA, then again shortly before each grant
 * runs out, until SIGTERM/SIGINT, until --while-pid's process ends, or for as long as CMD runs.
 * Argument checks here; the session is src/client/keep-open-run.ts, loaded only when the command
 * runs (start-up time of the other commands).
 */

import { InvalidArgumentError, type Command } from 'commander';
import { findCredential, knockTarget, profilePath } from '../../client/profiles.js';
import { keepOpenDurationS, spaKeepOpenKnock } from '../../client/keep-open-spa.js';
import { KnockgateError } from '../../core/errors.js';
import { familyOf, spaOptions, type SpaFlags } from './spa-options.js';

type KeepOpenFlags = SpaFlags & { whilePid?: number };

/** Linux's pid_max is at most 2^22. */
const MAX_PID = 4_194_304;

function parsePid(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_PID)
    throw new InvalidArgumentError(`expected a process id from 1 to ${MAX_PID}`);
  return n;
}

export function addKeepOpenCommand(program: Command): void {
  const cmd = spaOptions(
    program
      .command('keep-open')
      .description(
        'knock with SPA, then again before each grant runs out, until stopped (SIGTERM/SIGINT, exit 0), while --while-pid lives, or while the command after -- runs (exit: its status); for sshfs, autossh, NFS over SSH',
      )
      .argument('<host>', 'server name or address (a profile named HOST knocks its server: instead, if it has one)')
      .argument(
        '[command...]',
        'after --: a command to run (argv, no shell) once the door is open; keep-open ends with it',
      )
      .option('--while-pid <pid>', 'stop when this process ends (its command, if any, gets SIGTERM)', parsePid),
  );
  // Shared with knock, but here the door's default is never relied on (client/keep-open-spa.ts).
  const duration = cmd.options.find((opt) => opt.long === '--duration');
  if (duration) duration.description = "each grant, e.g. 10m (default: the credential's max_duration; one is needed)";
  cmd.action(keepOpenCommand);
}

async function keepOpenCommand(host: string, command: string[], o: KeepOpenFlags): Promise<void> {
  const family = familyOf(o);
  const cred = await findCredential({ ...o, host });
  if (cred === null)
    throw new KnockgateError(
      'KG_USAGE',
      `no credential for ${host}: pass --credential FILE, --profile NAME, or create ${profilePath(host)}`,
    );
  const durationS = keepOpenDurationS(o.duration, cred);
  // A profile named by HOST knocks its server: (as knock and connect do).
  const server = knockTarget({ ...o, host }, cred);
  const { systemClock } = await import('../../daemon/clock.js');
  const { runKeepOpen } = await import('../../client/keep-open-run.js');
  if (o.verbose) process.stderr.write(`knockgate: keep-open: ${server} as ${cred.name}, grants of ${durationS}s\n`);
  const status = await runKeepOpen({
    clock: systemClock,
    knock: spaKeepOpenKnock({ cred, host: server, family, flags: o, durationS }),
    durationS,
    ...(o.whilePid !== undefined ? { whilePid: o.whilePid } : {}),
    ...(command.length > 0 ? { command } : {}),
    handleSignals: true,
    verbose: o.verbose === true,
    say: (line) => process.stderr.write(`knockgate: keep-open: ${line}\n`),
  });
  process.exitCode = status;
}
