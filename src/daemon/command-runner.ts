/**
 * Runs start_command / stop_command argv arrays (and fwknop command messages, as the stanza's user
 * and group when the job names them): no shell, a minimal environment, stdin closed,
 * a time limit, at most MAX_CONCURRENT_COMMANDS at once and MAX_QUEUED_COMMANDS waiting (beyond
 * that a command is refused and logged, so a burst of grants cannot fork-bomb the host).
 * Each run ends in exactly one log line with its exit status.
 *
 * A run lasts until the command has exited and its output is closed: a background process that
 * keeps the command's stdout or stderr is part of the run. Each command is the leader of its own
 * process group, and the time limit kills the whole group (SIGKILL), so such a process cannot
 * outlive the limit nor hold a slot beyond it. A process started with its output redirected, that
 * the command leaves behind when it exits in time, is not touched.
 */

import { spawn } from 'node:child_process';
import { MAX_COMMAND_OUTPUT_BYTES, MAX_CONCURRENT_COMMANDS, MAX_QUEUED_COMMANDS } from '../core/limits.js';
import type { CommandJob, CommandResult, Commands } from '../ports/commands.js';
import type { Logger } from '../ports/logger.js';

const CHILD_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

/** How many commands may run at once, and how many may wait beyond those. */
export interface CommandBounds {
  readonly concurrent: number;
  readonly queued: number;
}

export class CommandRunner implements Commands {
  private running = 0;
  private readonly waiting: { job: CommandJob; done: (r: CommandResult) => void }[] = [];
  private readonly idleWaiters: (() => void)[] = [];

  /** `bounds` other than the limits are for tests, which cannot spawn a thousand processes. */
  constructor(
    private readonly log: Logger,
    readonly bounds: CommandBounds = { concurrent: MAX_CONCURRENT_COMMANDS, queued: MAX_QUEUED_COMMANDS },
  ) {}

  /** Queues a job; the promise settles when it has run (or was refused). Never rejects. */
  run(job: CommandJob): Promise<CommandResult> {
    return new Promise((done) => {
      if (this.waiting.length >= this.bounds.queued) {
        this.log.error(
          { event: 'command', ...job.context, outcome: 'refused', reason: 'queue-full' },
          'command refused: too many queued',
        );
        done({ exitCode: null, signal: null, timedOut: false, error: 'queue-full' });
        return;
      }
      this.waiting.push({ job, done });
      this.pump();
    });
  }

  /** Resolves when nothing is running or waiting. */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private pump(): void {
    while (this.running < this.bounds.concurrent && this.waiting.length > 0) {
      const next = this.waiting.shift() as { job: CommandJob; done: (r: CommandResult) => void };
      this.running++;
      void this.execute(next.job).then((r) => {
        this.running--;
        next.done(r);
        this.pump();
        if (this.running === 0 && this.waiting.length === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private execute(job: CommandJob): Promise<CommandResult> {
    return new Promise((resolve) => {
      const [program, ...args] = job.argv as [string, ...string[]];
      let output = '';
      let timedOut = false;
      let settled = false;
      // Its own process group (and session), so that the time limit reaches what it starts too.
      const child = spawn(program, args, {
        shell: false,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: CHILD_ENV,
        detached: true,
        // libuv drops the supplementary groups (setgroups 0) before setgid/setuid.
        ...(job.uid !== undefined ? { uid: job.uid } : {}),
        ...(job.gid !== undefined ? { gid: job.gid } : {}),
      });
      const keep = (d: Buffer): void => {
        if (output.length < MAX_COMMAND_OUTPUT_BYTES)
          output += d.toString('utf8').slice(0, MAX_COMMAND_OUTPUT_BYTES - output.length);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child.pid);
      }, job.timeoutMs);
      const finish = (r: CommandResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const ok = r.exitCode === 0;
        const fields = {
          event: 'command',
          ...job.context,
          program,
          exit_code: r.exitCode,
          signal: r.signal,
          timed_out: r.timedOut,
          output: output.trim() || undefined,
          error: r.error,
        };
        if (ok) this.log.info(fields, 'command finished');
        else this.log.warn(fields, 'command failed');
        resolve(r);
      };
      child.on('error', (err) => finish({ exitCode: null, signal: null, timedOut: false, error: err.message }));
      child.on('close', (code, signal) => finish({ exitCode: code, signal, timedOut }));
    });
  }
}

/**
 * SIGKILL to the command's process group: the command and whatever it started that did not leave
 * the group. The kernel hands out no pid that is still the id of a group with members, so -pid
 * names this group for as long as anything is in it; a group already empty is no error (ESRCH).
 */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: nothing left in the group.
  }
}
