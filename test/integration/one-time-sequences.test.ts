/**
 * One-time sequences (knockd's One_Time_Sequences) on the real kernel: each line of the file opens
 * the door once; it is burnt on disk (first byte overwritten with '#') before the grant, so it
 * stays used across restarts; the next line takes over at once.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { knock, probe, sleep } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

describe('one-time sequences', () => {
  const s = useScenario({
    banner: [22],
    files: () => ({ 'otp.txt': '# one sequence per line\n8101,8102,8103\n8201:udp,8202,8203\n' }),
    doors: () => ['  - name: otp', '    one_time_sequences: otp.txt', '    open: [22/tcp]', '    duration: 30s'],
  });
  const { tb, daemon } = s;

  it('the first unused line opens the door, and is burnt on disk', async () => {
    knock(tb, tb.client.ns, tb.server.clientSide.v4, [8101, 8102, 8103]);
    await daemon.waitFor((l) => l.event === 'grant' && l.source === tb.client.v4, 5000, 'the grant');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
    assert.equal(
      readFileSync(s.path('otp.txt'), 'utf8'),
      '# one sequence per line\n#101,8102,8103\n8201:udp,8202,8203\n',
    );
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

    await s.restart('SIGTERM');
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
