/**
 * `firewall: none` doors fail closed across a crash: the stop command of a door (argv
 * stop_command, and a knockd-style stop_shell) is on disk before its start command runs, so when
 * knockgated is SIGKILLed within the door's duration and started again, the overdue stop command
 * runs right at start and the one not yet due runs at its due time. The commands create and delete
 * marker files in the test's own temporary directory.
 */

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createTestbed, type Testbed } from '../support/netns.js';
import { knock, sleep, startDaemon, startDaemonWith, writeConfig } from '../support/daemon-process.js';

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  for (const start = Date.now(); Date.now() - start < timeoutMs; await sleep(50)) if (check()) return;
  assert.fail(`timed out waiting for ${what}`);
}

describe('pending stop commands across a crash (firewall: none)', () => {
  let tb: Testbed;
  after(() => tb?.destroy());

  it('after SIGKILL and a restart, the overdue stop command runs at start and the other at its due time', async () => {
    tb = createTestbed();
    const configFile = writeConfig('');
    const dir = dirname(configFile);
    const argvMarker = join(dir, 'argv-door-open');
    const shellMarker = join(dir, 'shell-door-open');
    writeFileSync(
      configFile,
      [
        'interfaces: [any]',
        'firewall: none',
        `pending_commands: ${JSON.stringify(join(dir, 'state', 'pending-commands.json'))}`,
        'doors:',
        '  - name: argv-door',
        '    sequence: ["9101/udp", "9102/udp"]',
        '    duration: 7s',
        `    start_command: ["/usr/bin/touch", ${JSON.stringify(argvMarker)}]`,
        `    stop_command: ["/bin/rm", "-f", ${JSON.stringify(argvMarker)}]`,
        '  - name: shell-door',
        '    sequence: ["9201/udp", "9202/udp"]',
        '    duration: 2s',
        `    start_shell: ${JSON.stringify(`/usr/bin/touch ${shellMarker}`)}`,
        `    stop_shell: ${JSON.stringify(`/bin/rm -f ${shellMarker}`)}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const first = await startDaemon(tb, configFile);
    const argvKnockAt = Date.now();
    knock(tb, tb.client.ns, tb.server.clientSide.v4, ['9101/udp', '9102/udp']);
    await first.waitFor(
      (l) => l.event === 'command' && l.door === 'argv-door' && l.command === 'start',
      5000,
      'the argv start command',
    );
    const shellKnockAt = Date.now();
    knock(tb, tb.client.ns, tb.server.clientSide.v4, ['9201/udp', '9202/udp']);
    await first.waitFor(
      (l) => l.event === 'command' && l.door === 'shell-door' && l.command === 'start',
      5000,
      'the shell start command',
    );
    assert.ok(existsSync(argvMarker) && existsSync(shellMarker), 'both start commands ran');

    first.child.kill('SIGKILL');
    await first.exited();
    assert.ok(
      !first.lines.some((l) => l.event === 'command' && l.command === 'stop'),
      'no stop command ran before the crash',
    );
    await sleep(Math.max(0, shellKnockAt + 2500 - Date.now())); // the shell door's stop is now overdue

    const second = await startDaemon(tb, configFile);
    const readyAt = Date.now();
    await until('the overdue stop_shell to run at start', () => !existsSync(shellMarker), 3000);
    assert.ok(existsSync(argvMarker), 'the argv door is not due yet');
    assert.ok(
      Date.now() < argvKnockAt + 7000 - 500,
      'still before the argv door is due (the check above means something)',
    );
    await until(
      'the argv stop_command to run at its due time',
      () => !existsSync(argvMarker),
      argvKnockAt + 7000 + 4000 - Date.now(),
    );
    const closedAt = Date.now();
    assert.ok(
      closedAt >= argvKnockAt + 7000 - 1000,
      `argv stop ran at its due time, not early (${closedAt - argvKnockAt} ms after the knock)`,
    );
    assert.ok(readyAt > 0);
    const restored = second.lines.filter((l) => l.event === 'pending-command-restored');
    assert.equal(restored.length, 2, JSON.stringify(restored));
    second.child.kill('SIGTERM');
    await second.exited();
    const stopped = second.lines.find((l) => l.event === 'stopped');
    assert.match(String(stopped?.msg), /pending stop commands are kept on disk and run at the next start/);
  });

  it('with --knockd-conf, --pending-commands puts the stop commands where it says (not in /var/lib/knockgate)', async () => {
    const bed = createTestbed({ serverClientIfname: 'eth0' }); // knockd's default interface
    const dir = dirname(writeConfig(''));
    const marker = join(dir, 'knockd-door-open');
    const conf = join(dir, 'knockd.conf');
    const state = join(dir, 'state', 'pending-commands.json');
    writeFileSync(
      conf,
      [
        '[options]',
        '',
        '[door]',
        '\tsequence      = 9301:udp,9302:udp',
        '\tseq_timeout   = 5',
        `\tstart_command = /usr/bin/touch ${marker}`,
        '\tcmd_timeout   = 3',
        `\tstop_command  = /bin/rm -f ${marker}`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    try {
      const daemon = await startDaemonWith(bed, ['--knockd-conf', conf, '--pending-commands', state]);
      knock(bed, bed.client.ns, bed.server.clientSide.v4, ['9301/udp', '9302/udp']);
      await daemon.waitFor(
        (l) => l.event === 'command' && l.door === 'door' && l.command === 'start',
        5000,
        'the start command',
      );
      assert.ok(existsSync(marker), 'the start command ran');
      const record = JSON.parse(readFileSync(state, 'utf8')) as { pending: { door: string }[] };
      assert.deepEqual(
        record.pending.map((r) => r.door),
        ['door'],
        'the stop command is recorded in the file named on the command line',
      );
      await until('the stop command to run', () => !existsSync(marker), 6000);
      daemon.child.kill('SIGTERM');
      await daemon.exited();
    } finally {
      bed.destroy();
    }
  });
});
