/**
 * Where a door's start and stop commands go. The real runner (daemon/command-runner.ts) spawns
 * argv arrays without a shell, bounded in number and time; MemoryCommands records the jobs and
 * reports each as exited 0, for tests that must not fork.
 *
 * Contract: run() never rejects; its result says how the command ended (or that it was refused
 * and never started: `error: 'queue-full'`).
 */

export interface CommandJob {
  readonly argv: readonly string[];
  readonly timeoutMs: number;
  /** Logged with the result: door, source, which command. */
  readonly context: Readonly<Record<string, unknown>>;
  /** Run as this user and group (no supplementary groups); absent: as the daemon (root). */
  readonly uid?: number;
  readonly gid?: number;
}

export interface CommandResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly error?: string;
}

export interface Commands {
  /** Queues a job; the promise settles when it has run (or was refused). Never rejects. */
  run(job: CommandJob): Promise<CommandResult>;
  /** Resolves when nothing is running or waiting. */
  idle(): Promise<void>;
}

/** Records every job in order; each "runs" at once and exits 0, or is refused while `refuse` is set. */
export class MemoryCommands implements Commands {
  readonly jobs: CommandJob[] = [];
  /** When true, jobs are refused as a full queue refuses them (never started). */
  refuse = false;

  async run(job: CommandJob): Promise<CommandResult> {
    if (this.refuse) return { exitCode: null, signal: null, timedOut: false, error: 'queue-full' };
    this.jobs.push(job);
    return { exitCode: 0, signal: null, timedOut: false };
  }

  async idle(): Promise<void> {}
}
