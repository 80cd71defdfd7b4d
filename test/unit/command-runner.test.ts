/**
 * src/daemon/command-runner.ts with real child processes (/bin/sh, /usr/bin/env, sleep): what a
 * command is given (its argv as is, no shell; a minimal environment; no stdin), what the caller
 * and the log see when it ends (exit status, signal, output kept up to MAX_COMMAND_OUTPUT_BYTES, a
 * program that cannot start), the time limit (the command and whatever it started in its process
 * group are killed, and the run ends then), the bounds on running and queued commands
 * ('queue-full'), and idle().
 */

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_COMMAND_OUTPUT_BYTES, MAX_CONCURRENT_COMMANDS, MAX_QUEUED_COMMANDS } from '../../src/core/limits.js';
import { CommandRunner } from '../../src/daemon/command-runner.js';
import type { CommandJob } from '../../src/ports/commands.js';
import { MemoryLogger } from '../../src/ports/logger.js';
import { alive } from '../support/process-alive.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'knockgate-runner-'));
  dirs.push(d);
  return d;
}

const job = (
  argv: string[],
  timeoutMs = 5_000,
  context: Record<string, unknown> = { door: 'web', source: '198.18.0.2', command: 'start' },
): CommandJob => ({ argv, timeoutMs, context });

async function until(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('CommandRunner: one run', () => {
  it('exit status 0: the caller gets it and the log has one info line with the context', async () => {
    const log = new MemoryLogger();
    const r = await new CommandRunner(log).run(job(['/bin/sh', '-c', 'echo hello']));
    assert.deepEqual(r, { exitCode: 0, signal: null, timedOut: false });
    assert.equal(log.lines.length, 1);
    assert.equal(log.lines[0]?.level, 'info');
    assert.equal(log.lines[0]?.msg, 'command finished');
    assert.deepEqual(log.lines[0]?.fields, {
      event: 'command',
      door: 'web',
      source: '198.18.0.2',
      command: 'start',
      program: '/bin/sh',
      exit_code: 0,
      signal: null,
      timed_out: false,
      output: 'hello',
      error: undefined,
    });
  });

  it('a non-zero exit status is a warning with the output (stdout and stderr)', async () => {
    const log = new MemoryLogger();
    const r = await new CommandRunner(log).run(job(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3']));
    assert.deepEqual(r, { exitCode: 3, signal: null, timedOut: false });
    assert.equal(log.lines.length, 1);
    assert.equal(log.lines[0]?.level, 'warn');
    assert.equal(log.lines[0]?.msg, 'command failed');
    assert.equal(log.lines[0]?.fields.exit_code, 3);
    assert.match(String(log.lines[0]?.fields.output), /^(out\nerr|err\nout)$/);
  });

  it('a command ended by a signal reports the signal, not a timeout', async () => {
    const log = new MemoryLogger();
    const r = await new CommandRunner(log).run(job(['/bin/sh', '-c', 'kill -TERM $$']));
    assert.deepEqual(r, { exitCode: null, signal: 'SIGTERM', timedOut: false });
    assert.equal(log.lines[0]?.level, 'warn');
  });

  it('a program that cannot be started is a result with the error, never a rejection', async () => {
    const log = new MemoryLogger();
    const r = await new CommandRunner(log).run(job(['/nonexistent/knockgate-test-program', 'x']));
    assert.equal(r.exitCode, null);
    assert.equal(r.timedOut, false);
    assert.match(r.error ?? '', /ENOENT/);
    assert.equal(log.lines.length, 1);
    assert.equal(log.lines[0]?.level, 'warn');
    assert.match(String(log.lines[0]?.fields.error), /ENOENT/);
  });

  it('argv reaches the program as is: no shell expands, splits or globs it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a-file'), '');
    const log = new MemoryLogger();
    const args = ['$(echo injected)', '`id`', 'two words', '*', ';', '|', '$HOME', '%IP%'];
    const r = await new CommandRunner(log).run(job(['/usr/bin/printf', '[%s]\\n', ...args]));
    assert.equal(r.exitCode, 0);
    assert.equal(log.lines[0]?.fields.output, args.map((a) => `[${a}]`).join('\n'));
  });

  it("the environment is minimal: PATH and LANG only, nothing of the daemon's", async () => {
    process.env.KNOCKGATE_TEST_SECRET = 'must-not-leak';
    try {
      const log = new MemoryLogger();
      const r = await new CommandRunner(log).run(job(['/usr/bin/env']));
      assert.equal(r.exitCode, 0);
      const env = String(log.lines[0]?.fields.output).split('\n').sort();
      assert.deepEqual(env, ['LANG=C.UTF-8', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    } finally {
      delete process.env.KNOCKGATE_TEST_SECRET;
    }
  });

  it('stdin is closed: a command that reads it sees end of file at once', async () => {
    const log = new MemoryLogger();
    const r = await new CommandRunner(log).run(
      job(['/bin/sh', '-c', 'if read line; then echo "read: $line"; else echo eof; fi'], 2_000),
    );
    assert.equal(r.timedOut, false);
    assert.equal(log.lines[0]?.fields.output, 'eof');
  });

  it(`output is kept up to MAX_COMMAND_OUTPUT_BYTES (${MAX_COMMAND_OUTPUT_BYTES}) for the log`, async () => {
    const log = new MemoryLogger();
    const r = await new CommandRunner(log).run(
      job(['/bin/sh', '-c', `head -c ${3 * MAX_COMMAND_OUTPUT_BYTES} /dev/zero | tr '\\0' a`]),
    );
    assert.equal(r.exitCode, 0);
    assert.equal(log.lines[0]?.fields.output, 'a'.repeat(MAX_COMMAND_OUTPUT_BYTES));
  });
});

describe('CommandRunner: the time limit', () => {
  it('a command past its time limit is killed (SIGKILL) and reported as timed out', async () => {
    const log = new MemoryLogger();
    const started = Date.now();
    const r = await new CommandRunner(log).run(job(['/bin/sleep', '30'], 200));
    const took = Date.now() - started;
    assert.deepEqual(r, { exitCode: null, signal: 'SIGKILL', timedOut: true });
    assert.ok(took >= 200 && took < 3_000, `took ${took} ms`);
    assert.equal(log.lines[0]?.level, 'warn');
    assert.equal(log.lines[0]?.fields.timed_out, true);
  });

  it('what the command started is killed with it, and the run ends at the limit, not when the last of them exits', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'pids');
    const log = new MemoryLogger();
    const started = Date.now();
    // The shell starts a child that keeps the command's stdout open, then waits for it.
    const r = await new CommandRunner(log).run(
      job(['/bin/sh', '-c', `sleep 30 & echo "$$ $!" > ${pidFile}; wait`], 300),
    );
    const took = Date.now() - started;
    assert.equal(r.timedOut, true);
    assert.ok(took < 3_000, `the run ended ${took} ms after it started, with a 300 ms limit`);
    const pids = readFileSync(pidFile, 'utf8').trim().split(' ').map(Number);
    assert.equal(pids.length, 2);
    await until('the command and its child to be gone', () => pids.every((p) => !alive(p)), 2_000);
  });

  it('a command that ends in time is not killed, and what it left running without its output survives', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'pid');
    const log = new MemoryLogger();
    const r = await new CommandRunner(log).run(
      job(['/bin/sh', '-c', `sleep 30 >/dev/null 2>&1 & echo $! > ${pidFile}`], 300),
    );
    assert.deepEqual(r, { exitCode: 0, signal: null, timedOut: false });
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    await sleep(500); // past the time limit
    try {
      assert.ok(alive(pid), 'a background process that does not hold the output is not the run any more');
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });
});

describe('CommandRunner: bounds and idle()', () => {
  /** A command that marks that it started, then waits until the test releases it. */
  const blocker = (dir: string, n: number): CommandJob =>
    job(['/bin/sh', '-c', `touch ${dir}/started-${n}; while [ ! -e ${dir}/go-${n} ]; do sleep 0.02; done`], 10_000, {
      n,
    });
  const startedCount = (dir: string): number => readdirSync(dir).filter((f) => f.startsWith('started-')).length;

  it('the defaults are the limits: MAX_CONCURRENT_COMMANDS running and MAX_QUEUED_COMMANDS waiting', () => {
    assert.deepEqual(new CommandRunner(new MemoryLogger()).bounds, {
      concurrent: MAX_CONCURRENT_COMMANDS,
      queued: MAX_QUEUED_COMMANDS,
    });
  });

  it('at most `concurrent` commands run at once; the next starts when one ends', async () => {
    const dir = tempDir();
    const runner = new CommandRunner(new MemoryLogger(), { concurrent: 2, queued: 10 });
    const runs = [1, 2, 3].map((n) => runner.run(blocker(dir, n)));
    await until('two commands to start', () => startedCount(dir) === 2);
    await sleep(300);
    assert.equal(startedCount(dir), 2, 'a third command started while two were running');
    assert.ok(!existsSync(join(dir, 'started-3')), 'commands start in the order they were queued');
    writeFileSync(join(dir, 'go-1'), '');
    await until('the third command to start', () => existsSync(join(dir, 'started-3')));
    writeFileSync(join(dir, 'go-2'), '');
    writeFileSync(join(dir, 'go-3'), '');
    for (const r of await Promise.all(runs)) assert.equal(r.exitCode, 0);
  });

  it("beyond `queued` waiting, a command is refused at once with 'queue-full' and an error line; it never runs", async () => {
    const dir = tempDir();
    const log = new MemoryLogger();
    const runner = new CommandRunner(log, { concurrent: 1, queued: 2 });
    const running = runner.run(blocker(dir, 1));
    const waiting = [2, 3].map((n) => runner.run(blocker(dir, n)));
    const refused = await runner.run({
      ...blocker(dir, 4),
      context: { door: 'web', source: '198.18.0.9', command: 'start' },
    });
    assert.deepEqual(refused, { exitCode: null, signal: null, timedOut: false, error: 'queue-full' });
    const line = log.lines.find((l) => l.fields.outcome === 'refused');
    assert.deepEqual(line, {
      level: 'error',
      msg: 'command refused: too many queued',
      fields: {
        event: 'command',
        door: 'web',
        source: '198.18.0.9',
        command: 'start',
        outcome: 'refused',
        reason: 'queue-full',
      },
    });
    for (const n of [1, 2, 3, 4]) writeFileSync(join(dir, `go-${n}`), '');
    await Promise.all([running, ...waiting]);
    assert.ok(!existsSync(join(dir, 'started-4')), 'the refused command ran');
    assert.equal(startedCount(dir), 3);
  });

  it('idle() resolves at once with nothing to do, and otherwise only when nothing runs or waits', async () => {
    const dir = tempDir();
    const runner = new CommandRunner(new MemoryLogger(), { concurrent: 1, queued: 10 });
    await runner.idle();
    const runs = [1, 2].map((n) => runner.run(blocker(dir, n)));
    let idle = false;
    const idled = runner.idle().then(() => (idle = true));
    await until('the first command to start', () => existsSync(join(dir, 'started-1')));
    writeFileSync(join(dir, 'go-1'), '');
    await runs[0];
    await sleep(50);
    assert.equal(idle, false, 'idle() resolved while a command was still waiting or running');
    writeFileSync(join(dir, 'go-2'), '');
    await idled;
    assert.equal((await runs[1])?.exitCode, 0);
    await runner.idle();
  });
});
