/**
 * `knockgated --dry-run`: the daemon as it runs, minus every effect on the host. compose.ts
 * builds it from these parts and the in-memory adapters (gates/memory.ts for the firewall,
 * MemoryReplayStore, MemoryPendingCommands, one-time sequences copied into memory):
 *   - DryRunCommands logs each start and stop command it is given (argv and all) and runs none;
 *   - dryRunLogger() marks every line `dry_run: true` and its message "(dry run)", so that a
 *     `granted` line of a dry run cannot be read as a grant the kernel holds.
 * Sensors are the real ones (pcap needs root, as ever): the decisions are the real decisions.
 * Nothing is written: not the table, not the replay journal, not the pending stop commands, not a
 * one-time sequence file (a sequence a dry run "burns" stays usable for the real daemon).
 * Because nothing it holds is exclusive, a dry run can run beside the daemon on the same config
 * (knockgated.ts takes no table lock for it and opens no control socket or metrics endpoint);
 * only an SPA door's UDP port, bound by the running daemon, cannot be taken twice.
 */

import type { CommandJob, CommandResult, Commands } from '../ports/commands.js';
import type { Logger } from '../ports/logger.js';

export class DryRunCommands implements Commands {
  constructor(private readonly log: Logger) {}

  /** Logs the job as it would have run; reports it as exited 0 so the daemon goes on as it would. */
  async run(job: CommandJob): Promise<CommandResult> {
    this.log.info(
      { event: 'command', ...job.context, outcome: 'not-run', argv: job.argv },
      `would run ${job.argv[0] ?? ''}`,
    );
    return { exitCode: 0, signal: null, timedOut: false };
  }

  async idle(): Promise<void> {}
}

/** `log`, with every line marked as a dry run's. */
export function dryRunLogger(log: Logger): Logger {
  const mark =
    (level: keyof Logger) =>
    (fields: Record<string, unknown>, msg: string): void =>
      log[level]({ ...fields, dry_run: true }, `${msg} (dry run)`);
  return { error: mark('error'), warn: mark('warn'), info: mark('info'), debug: mark('debug') };
}
