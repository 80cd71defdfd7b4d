/**
 * `firewall: none`, as knockd runs: no nftables table at all; the door only runs its commands,
 * start_command at the knock and stop_command `duration` later, with the right argv.
 */

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestbed, type Testbed } from '../support/netns.js';
import { BUILD_ROOT, knock, startDaemon, writeConfig, type DaemonHandle } from '../support/daemon-process.js';

const RECORDER = join(BUILD_ROOT, 'test', 'support', 'record-argv.js');

describe('firewall: none (commands only)', () => {
  let tb: Testbed;
  let daemon: DaemonHandle;
  let commandLog: string;

  before(async () => {
    tb = createTestbed();
    const configFile = writeConfig('');
    commandLog = join(dirname(configFile), 'commands.jsonl');
    const cmd = (what: string): string =>
      JSON.stringify([process.execPath, RECORDER, commandLog, what, '{ip}', '{door}', '{{literal}}', 'x; rm -rf / #']);
    writeFileSync(
      configFile,
      [
        'interfaces: [any]',
        'firewall: none',
        `pending_commands: ${JSON.stringify(join(dirname(configFile), 'pending-commands.json'))}`,
        'doors:',
        '  - name: web',
        '    sequence: ["9001/udp", 9002]',
        '    duration: 2s',
        `    start_command: ${cmd('start')}`,
        `    stop_command: ${cmd('stop')}`,
        '',
      ].join('\n'),
    );
    daemon = await startDaemon(tb, configFile);
  });

  after(() => tb?.destroy());

  it('creates no firewall table', () => {
    assert.doesNotMatch(tb.run(tb.server.ns, ['nft', 'list', 'tables']), /knockgate/);
  });

  it('runs start_command at the knock and stop_command after duration, argv passed verbatim without a shell', async () => {
    knock(tb, tb.client.ns, tb.server.clientSide.v4, ['9001/udp', 9002]);
    await daemon.waitFor((l) => l.event === 'command' && l.command === 'start', 5000, 'the start command');
    const started = Date.now();
    await daemon.waitFor((l) => l.event === 'command' && l.command === 'stop', 6000, 'the stop command');
    assert.ok(Date.now() - started >= 1500, 'stop_command ran about `duration` after start_command');
    assert.ok(existsSync(commandLog));
    const runs = readFileSync(commandLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
    assert.deepEqual(runs, [
      ['start', tb.client.v4, 'web', '{literal}', 'x; rm -rf / #'],
      ['stop', tb.client.v4, 'web', '{literal}', 'x; rm -rf / #'],
    ]);
    const result = daemon.lines.find((l) => l.event === 'command' && l.command === 'start');
    assert.equal(result?.exit_code, 0);
  });
});
