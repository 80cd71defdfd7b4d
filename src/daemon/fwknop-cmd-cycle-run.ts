/**
 * Runs an fwknop stanza's command cycle for one accepted request (core/spa/fwknop-cmd-cycle.ts),
 * with the guarantees of a door's stop_command and knockd's shell commands (grantor.ts):
 *   - both commands are expanded first, from knockgate's own fields; if a variable has no plain
 *     value (an address that is not hex digits, dots and colons; a number that is not digits; a
 *     $DST the capture could not give), nothing runs and that is logged with a named reason;
 *   - the close command is recorded durably (pending stops, `cmd_cycle_close`) before the open
 *     command runs; if it cannot be, the open command does not run either;
 *   - every accepted request runs the open command, and its own close command `timeoutS` later,
 *     as fwknopd does (a second request does not extend the first one's close);
 *   - argv only, no shell (daemon/command-runner.ts: minimal environment, time limit, exit status
 *     logged); a close pending across a restart runs at its due time, or at once when overdue.
 */

import { randomUUID } from 'node:crypto';
import { expandCmdCycle } from '../core/spa/fwknop-cmd-cycle.js';
import type { SpaGrant } from '../core/spa/ladder-step.js';
import type { Clock } from '../ports/clock.js';
import type { Commands } from '../ports/commands.js';
import type { Logger } from '../ports/logger.js';
import type { PendingCommand } from '../ports/pending-commands.js';
import type { PendingStops } from './pending-stops.js';

export interface CmdCycleRunDeps {
  readonly pending: PendingStops;
  readonly commands: Commands;
  readonly clock: Clock;
  readonly log: Logger;
}

/** Why a cycle ran nothing: a variable without a plain value, or a close command not made durable. */
export type CmdCycleRefusal = 'cmd-cycle-value-not-plain' | 'stop-command-not-recorded';

export function runCmdCycle(
  deps: CmdCycleRunDeps,
  door: { readonly name: string; readonly commandTimeoutMs: number },
  grant: Pick<SpaGrant, 'source' | 'family'> & { readonly cmdCycle: NonNullable<SpaGrant['cmdCycle']> },
): CmdCycleRefusal | null {
  const { cycle, facts } = grant.cmdCycle;
  const { source, family } = grant;
  const open = expandCmdCycle(cycle.open, facts);
  const close = cycle.close === null ? null : expandCmdCycle(cycle.close, facts);
  const refused = 'refused' in open ? open.refused : close !== null && 'refused' in close ? close.refused : null;
  if (refused !== null || !('argv' in open)) {
    deps.log.error(
      {
        event: 'command',
        door: door.name,
        source,
        command: 'cmd_cycle_open',
        outcome: 'refused',
        reason: 'cmd-cycle-value-not-plain',
        variable: refused ?? undefined,
      },
      'command cycle refused: a variable has no plain value',
    );
    return 'cmd-cycle-value-not-plain';
  }
  const record: PendingCommand | null =
    close === null || !('argv' in close)
      ? null
      : {
          id: randomUUID(),
          door: door.name,
          which: 'cmd_cycle_close',
          source,
          family,
          dueUnixMs: deps.clock.unixMs() + facts.timeoutS * 1000,
          argv: close.argv,
          timeoutMs: door.commandTimeoutMs,
        };
  // Durable before the open command runs: no restart can leave its effect in place.
  if (record !== null && !deps.pending.record(record)) return 'stop-command-not-recorded';
  void deps.commands.run({
    argv: open.argv,
    timeoutMs: door.commandTimeoutMs,
    context: { door: door.name, source, command: 'cmd_cycle_open' },
  });
  if (record !== null) deps.pending.schedule(record);
  return null;
}
