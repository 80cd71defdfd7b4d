/**
 * One-time sequences (knockd's One_Time_Sequences) on the real kernel: each line of the file opens
 * the door once; it is burnt on disk (first byte overwritten with '#') before the grant, so it
 * stays used across restarts; the next line takes over at once.
 */

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestbed, type Testbed } from '../support/netns.js';
import {
  BANNER_SERVER,
  knock,
  probe,
  sleep,
  startDaemon,
  writeConfig,
  type DaemonHandle,
} from '../support/daemon-process.js';

describe('one-time sequences', () => {
  let tb: Testbed;
  let configFile: string;
  let otpFile: string;
  let daemon: DaemonHandle;

  before(async () => {
    tb = createTestbed();
    tb.start(tb.server.ns, [process.execPath, BANNER_SERVER, '22']);
    configFile = writeConfig('');
    otpFile = join(dirname(configFile), 'otp.txt');
    writeFileSync(otpFile, '# one sequence per line\n8101,8102,8103\n8201:udp,8202,8203\n', { mode: 0o600 });
    writeFileSync(
      configFile,
      [
        'interfaces: [any]',
        'doors:',
        '  - name: otp',
        '    one_time_sequences: otp.txt',
        '    open: [22/tcp]',
        '    duration: 30s',
        '',
      ].join('\n'),
    );
    daemon = await startDaemon(tb, configFile);
  });

  after(() => tb?.destroy());

  it('the first unused line opens the door, and is burnt on disk', async () => {
    knock(tb, tb.client.ns, tb.server.clientSide.v4, [8101, 8102, 8103]);
    await daemon.waitFor((l) => l.event === 'grant' && l.source === tb.client.v4, 5000, 'the grant');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
    assert.equal(readFileSync(otpFile, 'utf8'), '# one sequence per line\n#101,8102,8103\n8201:udp,8202,8203\n');
    await daemon.waitFor(
      (l) => l.event === 'one-time-sequence-advanced' && l.remaining === 1,
      2000,
      'the next sequence',
    );
  });

  it('a used line does not open again, also after a restart; the next line does', async () => {
    knock(tb, tb.other.ns, tb.server.otherSide.v4, [8101, 8102, 8103]);
    await sleep(500);
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');

    process.kill(daemon.pid, 'SIGTERM');
    await daemon.exited();
    daemon = await startDaemon(tb, configFile);
    knock(tb, tb.other.ns, tb.server.otherSide.v4, [8101, 8102, 8103]);
    await sleep(500);
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');
    assert.equal(daemon.lines.filter((l) => l.event === 'grant').length, 0);

    knock(tb, tb.other.ns, tb.server.otherSide.v4, ['8201/udp', 8202, 8203]);
    await daemon.waitFor((l) => l.event === 'grant' && l.source === tb.other.v4, 5000, 'the grant for line 2');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'open');
    await daemon.waitFor((l) => l.event === 'door-exhausted', 2000, 'the door-exhausted warning');
  });
});
