/**
 * Pending stop commands survive a restart: src/stores/pending-commands.ts (the file) and the
 * daemon's use of the store (src/daemon/pending-stops.ts and grantor.ts, in the daemon built in
 * process with the in-memory fake): recorded before the
 * start command runs, removed only after the stop command ran, overdue ones run at start.
 */

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KnockgateError } from '../../src/core/errors.js';
import { systemClock } from '../../src/daemon/clock.js';
import { CommandRunner } from '../../src/daemon/command-runner.js';
import { MemoryPendingCommands, type PendingCommand } from '../../src/ports/pending-commands.js';
import { PendingCommandsFile } from '../../src/stores/pending-commands.js';
import { daemonHarness } from '../support/daemon-harness.js';
import { tcpFrame } from '../support/frames.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'knockgate-pending-'));
  dirs.push(d);
  return d;
}

function record(over: Partial<PendingCommand> = {}): PendingCommand {
  return {
    id: 'r1',
    door: 'web',
    which: 'stop_command',
    source: '198.18.0.2',
    family: 4,
    dueUnixMs: 1_700_000_000_000,
    argv: ['/bin/true'],
    timeoutMs: 5000,
    ...over,
  };
}

describe('PendingCommandsFile', () => {
  it('keeps records across a re-open, in a 0600 file inside a 0700 directory', () => {
    const path = join(tempDir(), 'state', 'pending-commands.json');
    const f = PendingCommandsFile.open(path);
    assert.deepEqual(f.list(), []);
    f.put(record({ id: 'a' }));
    f.put(record({ id: 'b', which: 'stop4', argv: ['/bin/sh', '-c', 'echo 198.18.0.2'] }));
    f.put(record({ id: 'a', dueUnixMs: 1_700_000_009_000 })); // same id: the due time moves
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700);
    const again = PendingCommandsFile.open(path);
    assert.deepEqual(
      again.list().map((r) => [r.id, r.dueUnixMs]),
      [
        ['b', 1_700_000_000_000],
        ['a', 1_700_000_009_000],
      ],
    );
    again.remove('b');
    assert.deepEqual(
      PendingCommandsFile.open(path)
        .list()
        .map((r) => r.id),
      ['a'],
    );
  });

  it('a corrupt file is a clear error at load, not an empty list', () => {
    const path = join(tempDir(), 'pending-commands.json');
    writeFileSync(path, '{"format":"knockgate-pending-commands/1","pending":[{"id":', { mode: 0o600 });
    assert.throws(
      () => PendingCommandsFile.open(path),
      (err: unknown) =>
        err instanceof KnockgateError &&
        err.code === 'KG_STATE_WRITE_FAILED' &&
        err.message.includes(path) &&
        /malformed/.test(err.message),
    );
    writeFileSync(
      path,
      JSON.stringify({ format: 'knockgate-pending-commands/1', pending: [{ id: 'x', door: 'web' }] }),
    );
    assert.throws(() => PendingCommandsFile.open(path), /record 0 is incomplete/);
  });

  it('a failed write is an error the caller sees, and the list stays as it is on disk', () => {
    const dir = tempDir();
    const path = join(dir, 'pending-commands.json');
    const f = PendingCommandsFile.open(path);
    f.put(record({ id: 'a' }));
    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, 'not a directory'); // the directory is now a file: every write fails
    assert.throws(
      () => f.put(record({ id: 'b' })),
      (err: unknown) => err instanceof KnockgateError && err.code === 'KG_STATE_WRITE_FAILED',
    );
    assert.deepEqual(
      f.list().map((r) => r.id),
      ['a'],
    );
    rmSync(dir, { force: true });
  });
});

/** A daemon with `firewall: none` and one argv door whose commands touch / remove `marker`, on the system clock and the real command runner. */
async function daemonWith(store: MemoryPendingCommands, dir: string, durationS = 1) {
  const marker = join(dir, 'marker');
  const yaml = [
    'interfaces: [any]',
    'firewall: none',
    'doors:',
    '  - name: web',
    '    sequence: [9001, 9002]',
    `    duration: ${durationS}s`,
    `    start_command: ["/usr/bin/touch", ${JSON.stringify(marker)}]`,
    `    stop_command: ["/bin/rm", "-f", ${JSON.stringify(marker)}]`,
    '',
  ].join('\n');
  let runner: CommandRunner | undefined;
  const h = await daemonHarness(yaml, {
    dir,
    clock: systemClock,
    commands: (log) => (runner = new CommandRunner(log)),
    pending: store,
  });
  // A completed knock from 198.18.0.2, through the capture, the parser and the tracker.
  const knock = async (): Promise<void> => {
    h.frames.inject(tcpFrame({ src: '198.18.0.2' }, 9001));
    h.frames.inject(tcpFrame({ src: '198.18.0.2' }, 9002));
    await h.settle();
  };
  const idle = (): Promise<void> => (runner as CommandRunner).idle();
  return { daemon: h.daemon, log: h.log, marker, knock, idle };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Daemon and pending stop commands', () => {
  it('records the stop command durably before the start command runs, and removes it only after the stop command ran', async () => {
    const dir = tempDir();
    const seen: string[] = [];
    const store = new MemoryPendingCommands();
    const { daemon, marker, knock, idle } = await daemonWith(store, dir);
    const put = store.put.bind(store);
    const remove = store.remove.bind(store);
    store.put = (r) => {
      seen.push(`put start-ran=${existsSync(marker)}`);
      put(r);
    };
    store.remove = (id) => {
      seen.push(`remove stop-ran=${!existsSync(marker)}`);
      remove(id);
    };
    await daemon.start();
    await knock();
    await idle();
    assert.ok(existsSync(marker), 'start command ran');
    assert.equal(store.list().length, 1);
    const r = store.list()[0] as PendingCommand;
    assert.equal(r.which, 'stop_command');
    assert.deepEqual(r.argv, ['/bin/rm', '-f', marker]);
    assert.ok(Math.abs(r.dueUnixMs - (Date.now() + 1000)) < 1000);
    assert.ok(Number.isSafeInteger(r.dueUnixMs), 'whole milliseconds, as the file keeps them');
    await sleep(1500);
    await idle();
    assert.ok(!existsSync(marker), 'stop command ran');
    assert.deepEqual(store.list(), []);
    assert.deepEqual(seen, ['put start-ran=false', 'remove stop-ran=true']);
    await daemon.stop();
  });

  it('refuses the start command when its stop command cannot be recorded', async () => {
    const dir = tempDir();
    const store = new MemoryPendingCommands();
    store.failWrites = true;
    const { daemon, log, marker, knock, idle } = await daemonWith(store, dir);
    await daemon.start();
    await knock();
    await idle();
    assert.ok(!existsSync(marker), 'start command not run');
    assert.equal(daemon.stats().commands_refused, 1);
    assert.ok(log.lines.some((l) => l.level === 'error' && l.fields.reason === 'stop-command-not-recorded'));
    await daemon.stop();
  });

  it('keeps pending stop commands at stop and says so; at the next start runs overdue ones at once and the others when due', async () => {
    const dir = tempDir();
    const store = new MemoryPendingCommands();
    const first = await daemonWith(store, dir, 60);
    await first.daemon.start();
    await first.knock();
    await first.idle();
    await first.daemon.stop();
    assert.equal(store.list().length, 1, 'kept on disk across the stop');
    const stopped = first.log.lines.find((l) => l.fields.event === 'stopped');
    assert.match(stopped?.msg ?? '', /pending stop commands are kept on disk and run at the next start/);
    assert.match(stopped?.msg ?? '', /grants expire on the kernel clock/);

    const overdueMarker = join(dir, 'overdue');
    const laterMarker = join(dir, 'later');
    writeFileSync(overdueMarker, '');
    writeFileSync(laterMarker, '');
    const restored = new MemoryPendingCommands([
      record({ id: 'old', argv: ['/bin/rm', '-f', overdueMarker], dueUnixMs: Date.now() - 5000 }),
      record({ id: 'later', which: 'stop4', argv: ['/bin/rm', '-f', laterMarker], dueUnixMs: Date.now() + 800 }),
    ]);
    const second = await daemonWith(restored, dir, 60);
    await second.daemon.start();
    await sleep(100);
    await second.idle();
    assert.ok(!existsSync(overdueMarker), 'overdue stop command ran at start');
    assert.ok(existsSync(laterMarker), 'the other not yet');
    assert.deepEqual(
      restored.list().map((r) => r.id),
      ['later'],
    );
    await sleep(1100);
    await second.idle();
    assert.ok(!existsSync(laterMarker), 'ran at its due time');
    assert.deepEqual(restored.list(), []);
    await second.daemon.stop();
  });
});
