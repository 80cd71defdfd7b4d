/**
 * Runs an fwknop command message a stanza enabled (core/spa/fwknop-command-message.ts): the client
 * authenticated with the stanza's keys, the stanza has ENABLE_CMD_EXEC and names the user, and
 * the command passed its cmd_allow if it has one. Running what an authenticated client sends is
 * the feature; what bounds it:
 *   - the audit trail holds the command (`event: command`, with the user it runs as) durably
 *     before it runs; if that record cannot be written, it does not run (fail closed);
 *   - argv only, no shell (as fwknopd's execvp), as the stanza's uid and gid with no supplementary
 *     groups, a minimal environment, stdin closed, the door's command_timeout (its process group is
 *     killed then), at most MAX_CONCURRENT_COMMANDS at once (daemon/command-runner.ts);
 *   - its end is logged (`event: command`, exit_code) and appended to the trail (`command-exit`).
 * No grant is made: nothing is opened in the firewall, nothing is booked.
 */

import { randomUUID } from 'node:crypto';
import type { FwknopCommand } from '../core/spa/fwknop-command-message.js';
import type { Commands } from '../ports/commands.js';
import type { Logger } from '../ports/logger.js';
import type { GrantAudit } from './grant-audit.js';

export interface CommandMessageDeps {
  readonly commands: Commands;
  readonly audit: GrantAudit;
  readonly log: Logger;
}

/** Resolves once the command ended, or was refused (its audit record could not be written). */
export async function runFwknopCommand(
  deps: CommandMessageDeps,
  door: { readonly name: string; readonly commandTimeoutMs: number },
  request: { readonly source: string; readonly client?: string; readonly command: FwknopCommand },
): Promise<'ran' | 'not-audited'> {
  const { command, source } = request;
  const { exec } = command;
  const runAs = `${exec.user}:${exec.group}`;
  const audited = { id: randomUUID(), door: door.name, source, endpoints: [], client: request.client };
  if (!deps.audit.record('command', audited, null, { commandFields: { command: command.text, run_as: runAs } })) {
    deps.log.error(
      {
        event: 'command',
        door: door.name,
        source,
        command: 'fwknop_command',
        outcome: 'refused',
        reason: 'audit-failed',
      },
      'command message refused: its audit record could not be written',
    );
    return 'not-audited';
  }
  deps.log.info(
    { event: 'command-message', door: door.name, source, stanza: request.client, run_as: runAs, uid: exec.uid },
    'running an fwknop command message',
  );
  const r = await deps.commands.run({
    argv: command.argv,
    timeoutMs: door.commandTimeoutMs,
    context: { door: door.name, source, command: 'fwknop_command', run_as: runAs },
    uid: exec.uid,
    gid: exec.gid,
  });
  deps.audit.record('command-exit', audited, null, {
    commandFields: {
      command: command.text,
      run_as: runAs,
      exit_code: r.exitCode,
      signal: r.signal,
      timed_out: r.timedOut,
      ...(r.error !== undefined ? { error: r.error } : {}),
    },
  });
  return 'ran';
}
