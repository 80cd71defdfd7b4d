/**
 * Covers src/client/keep-open-run.ts, what ends a keep-open session and with which status, with
 * real child processes and the system clock (a fake knock, no network): SIGTERM and SIGINT end it
 * with status 0 and one line; a command (argv, no shell) starts after the first knock was sent
 * and its exit status is the session's; a signal is passed on to the command; a missing command
 * is exit 127; --while-pid ends it when that process ends; `until` (connect's relay) ends it.
 * Every wait is bounded.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { runKeepOpen, type KeepOpenSession } from '../../src/client/keep-open-run.js';
import { KnockgateError } from '../../src/core/errors.js';
import { systemClock } from '../../src/daemon/clock.js';

function session(extra: Partial<KeepOpenSession>, knocks: number[], lines: string[]): KeepOpenSession {
  return {
    clock: systemClock,
    durationS: 2,
    handleSignals: false,
    verbose: false,
    knock: async () => {
      knocks.push(Date.now());
      return { address: '198.18.0.1', port: 62201 };
    },
    say: (l) => lines.push(l),
    ...extra,
  };
}

/** `p`, or a failure after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]);
}

describe('keep-open session', () => {
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`${sig}: status 0 and one line`, async () => {
      const knocks: number[] = [];
      const lines: string[] = [];
      const done = runKeepOpen(session({ handleSignals: true }, knocks, lines));
      await new Promise((r) => setTimeout(r, 50));
      process.emit(sig);
      assert.equal(await within(done, 2_000, 'the stop'), 0);
      assert.deepEqual(lines, [`stopped by ${sig} (1 knock sent, 0 failed)`]);
      assert.equal(process.listenerCount(sig), 0, 'its handler is gone');
    });
  }

  it('runs the command after the first knock, from its argv, and ends with its status', async () => {
    const knocks: number[] = [];
    const lines: string[] = [];
    const out = join(mkdtempSync(join(tmpdir(), 'kg-keep-open-')), 'argv.json');
    const script = `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.argv.slice(1))); process.exit(3)`;
    const status = await within(
      runKeepOpen(session({ command: [process.execPath, '-e', script, '$HOME', ';', '*'] }, knocks, lines)),
      5_000,
      'the command',
    );
    assert.equal(status, 3);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), ['$HOME', ';', '*'], 'no shell touched the argv');
    rmSync(dirname(out), { recursive: true });
    assert.equal(knocks.length, 1);
    assert.deepEqual(lines, []);
  });

  it('passes SIGTERM on to the command and ends with its status (143: killed by SIGTERM)', async () => {
    const lines: string[] = [];
    const done = runKeepOpen(
      session({ handleSignals: true, command: [process.execPath, '-e', 'setTimeout(() => {}, 10000)'] }, [], lines),
    );
    await new Promise((r) => setTimeout(r, 300));
    process.emit('SIGTERM');
    assert.equal(await within(done, 5_000, 'the command after SIGTERM'), 143);
  });

  it('a command that does not exist: KG_COMMAND_NOT_FOUND, exit 127', async () => {
    await assert.rejects(
      within(runKeepOpen(session({ command: ['/nonexistent/knockgate-test-cmd'] }, [], [])), 5_000, 'the error'),
      (err: unknown) => err instanceof KnockgateError && err.exitCode === 127 && /no such command/.test(err.message),
    );
  });

  it('--while-pid: stops when that process ends, status 0', async () => {
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 700)'], { stdio: 'ignore' });
    const pid = sleeper.pid as number;
    const knocks: number[] = [];
    const lines: string[] = [];
    const started = Date.now();
    const status = await within(runKeepOpen(session({ whilePid: pid }, knocks, lines)), 5_000, 'the stop');
    assert.equal(status, 0);
    assert.ok(Date.now() - started >= 500, 'it ran while the process lived');
    assert.match(lines.join('\n'), new RegExp(`^process ${pid} ended; stopped \\(\\d+ knocks? sent, 0 failed\\)$`));
  });

  it('--while-pid of a process that does not exist is a usage error', async () => {
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((r) => gone.once('exit', r));
    await assert.rejects(
      runKeepOpen(session({ whilePid: gone.pid as number }, [], [])),
      (err: unknown) => err instanceof KnockgateError && err.code === 'KG_USAGE',
    );
  });

  it('until (connect --keep-open): ends when the relay ends', async () => {
    const knocks: number[] = [];
    const relayed = new Promise((r) => setTimeout(r, 1_300));
    assert.equal(await within(runKeepOpen(session({ until: relayed }, knocks, [])), 3_000, 'the stop'), 0);
    assert.equal(knocks.length, 2, 'knocked at 0 and 1 s (grants of 2 s)');
  });
});
