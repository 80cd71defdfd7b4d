/**
 * Fail closed, on the real kernel: what happens to the firewall when knockgated dies or stops.
 * SIGKILL during a grant: others stay locked out, the grant still ends on the kernel's clock.
 * A restart finds live grants in its table and keeps them; SIGTERM leaves the rules in place.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { knock, probe, sleep, writeConfig } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const SEQUENCE = [7001, 7002, '7003/udp'];
const DURATION_S = 5;

describe('fail closed', () => {
  const s = useScenario({
    banner: [22, 2222],
    doors: () => [
      '  - name: ssh',
      `    sequence: [${SEQUENCE.map((step) => JSON.stringify(step)).join(', ')}]`,
      '    open: [22/tcp, 2222/tcp]',
      `    duration: ${DURATION_S}s`,
    ],
    start: false,
  });
  const { tb } = s;

  it('SIGKILL during a grant: still filtered for others, and the grant still expires on time', async () => {
    const daemon = await s.start();
    knock(tb, tb.client.ns, tb.server.clientSide.v4, SEQUENCE);
    await daemon.waitFor((l) => l.event === 'grant' && l.verdict === 'opened', 5000, 'the grant');
    const grantedAt = Date.now();
    process.kill(daemon.pid, 'SIGKILL');
    assert.equal(await daemon.exited(), null);

    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 2222).outcome, 'open');
    const other = probe(tb, tb.other.ns, tb.server.otherSide.v4, 22);
    assert.equal(other.outcome, 'timeout');
    assert.deepEqual(other.replies, []);

    await sleep(Math.max(0, grantedAt + DURATION_S * 1000 + 1000 - Date.now()));
    const late = probe(tb, tb.client.ns, tb.server.clientSide.v4, 22);
    assert.equal(late.outcome, 'timeout');
    assert.deepEqual(late.replies, []);
  });

  it('a restarted daemon keeps the grants it finds in the kernel, and SIGTERM leaves the rules in place', async () => {
    let daemon = await s.start();
    knock(tb, tb.client.ns, tb.server.clientSide.v4, SEQUENCE);
    await daemon.waitFor((l) => l.event === 'grant' && l.verdict === 'opened', 5000, 'the grant');
    process.kill(daemon.pid, 'SIGTERM');
    assert.equal(await daemon.exited(), 0);
    assert.match(tb.run(tb.server.ns, ['nft', 'list', 'table', 'inet', 'knockgate']), /@protected/);
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');

    daemon = await s.start();
    const adopted = daemon.lines.filter((l) => l.event === 'grant-adopted');
    assert.deepEqual(adopted.map((l) => [l.source, l.port]).sort(), [
      [tb.client.v4, '22/tcp'],
      [tb.client.v4, '2222/tcp'],
    ]);
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');
    process.kill(daemon.pid, 'SIGTERM');
    assert.equal(await daemon.exited(), 0);
  });

  it('a grant for a port no longer protected is removed at start; the new layout applies at once', async () => {
    const daemon1 = await s.start();
    knock(tb, tb.client.ns, tb.server.clientSide.v4, SEQUENCE);
    await daemon1.waitFor((l) => l.event === 'grant', 5000, 'the grant');
    process.kill(daemon1.pid, 'SIGKILL');
    await daemon1.exited();
    const narrower = writeConfig(
      [
        'interfaces: [any]',
        'doors:',
        '  - name: ssh',
        '    sequence: [7001, 7002]',
        '    open: [22/tcp]',
        `    duration: ${DURATION_S}s`,
        '',
      ].join('\n'),
    );
    const daemon2 = await s.start(narrower);
    const listing = tb.run(tb.server.ns, ['nft', 'list', 'set', 'inet', 'knockgate', 'grants4']);
    assert.match(listing, /tcp \. 22 /);
    assert.doesNotMatch(listing, /2222/);
    // 2222 is no longer protected at all: open to everyone, as the host's own firewall decides.
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 2222).outcome, 'open');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');
    process.kill(daemon2.pid, 'SIGTERM');
    await daemon2.exited();
  });
});
