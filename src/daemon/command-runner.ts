/**
 * Runs start_command / stop_command argv arrays: no shell, a minimal environment, stdin closed,
 * a time limit, at most MAX_CONCURRENT_COMMANDS at once and MAX_QUEUED_COMMANDS waiting (beyond
 * that a command is refused and logged, so a burst of grants cannot fork-bomb the host).
 * Each run ends in exactly one log line with its exit status.
 */

import { spawn } from 'node:child_process';
import { MAX_COMMAND_OUTPUT_BYTES, MAX_CONCURRENT_COMMANDS, MAX_QUEUED_COMMANDS } from '../core/limits.js';
import type { CommandJob, CommandResult, Commands } from '../ports/commands.js';
import type { Logger } from '../ports/logger.js';

const CHILD_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

export class CommandRunner implements Commands {
  private running = 0;
  private readonly waiting: { job: CommandJob; done: (r: CommandResult) => void }[] = [];
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly log: Logger) {}

  /** Queues a job; the promise settles when it has run (or was refused). Never rejects. */
  run(job: CommandJob): Promise<CommandResult> {
    return new Promise((done) => {
      if (this.waiting.length >= MAX_QUEUED_COMMANDS) {
        this.log.error({ event: 'command', ...job.context, outcome: 'refused', reason: 'queue-full' }, 'command refused: too many queued');
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
    while (this.running < MAX_CONCURRENT_COMMANDS && this.waiting.length > 0) {
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
      const child = spawn(program, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], env: CHILD_ENV });
      const keep = (d: Buffer): void => {
        if (output.length < MAX_COMMAND_OUTPUT_BYTES) output += d.toString('utf8').slice(0, MAX_COMMAND_OUTPUT_BYTES - output.length);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, job.timeoutMs);
      const finish = (r: CommandResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const ok = r.exitCode === 0;
        const fields = { event: 'command', ...job.context, program, exit_code: r.exitCode, signal: r.signal, timed_out: r.timedOut, output: output.trim() || undefined, error: r.error };
        if (ok) this.log.info(fields, 'command finished');
        else this.log.warn(fields, 'command failed');
        resolve(r);
      };
      child.on('error', (err) => finish({ exitCode: null, signal: null, timedOut: false, error: err.message }));
      child.on('close', (code, signal) => finish({ exitCode: code, signal, timedOut }));
    });
  }
}
