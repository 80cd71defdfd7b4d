/**
 * `firewall: none`, as knockd runs: no nftables table at all; the door only runs its commands,
 * start_command at the knock and stop_command `duration` later, with the right argv.
 */

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BUILD_ROOT, knock } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const RECORDER = join(BUILD_ROOT, 'test', 'support', 'record-argv.js');

describe('firewall: none (commands only)', () => {
  const cmd = (commandLog: string, what: string): string =>
    JSON.stringify([process.execPath, RECORDER, commandLog, what, '{ip}', '{door}', '{{literal}}', 'x; rm -rf / #']);
  const s = useScenario({
    settings: (s) => ['firewall: none', `pending_commands: ${JSON.stringify(s.path('pending-commands.json'))}`],
    doors: (s) => [
      '  - name: web',
      '    sequence: ["9001/udp", 9002]',
      '    duration: 2s',
      `    start_command: ${cmd(s.path('commands.jsonl'), 'start')}`,
      `    stop_command: ${cmd(s.path('commands.jsonl'), 'stop')}`,
    ],
  });
  const { tb, daemon } = s;

  it('creates no firewall table', () => {
    assert.doesNotMatch(tb.run(tb.server.ns, ['nft', 'list', 'tables']), /knockgate/);
  });

  it('runs start_command at the knock and stop_command after duration, argv passed verbatim without a shell', async () => {
    knock(tb, tb.client.ns, tb.server.clientSide.v4, ['9001/udp', 9002]);
    await daemon.waitFor((l) => l.event === 'command' && l.command === 'start', 5000, 'the start command');
    const started = Date.now();
    await daemon.waitFor((l) => l.event === 'command' && l.command === 'stop', 6000, 'the stop command');
    assert.ok(Date.now() - started >= 1500, 'stop_command ran about `duration` after start_command');
    assert.ok(existsSync(s.path('commands.jsonl')));
    const runs = readFileSync(s.path('commands.jsonl'), 'utf8')
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
