/**
 * Interfaces that come and go, on the real kernel: knockgated starts while an interface listed in
 * `late_interfaces` does not exist yet; the protected port is dropped on it the moment it appears
 * (before any capture is open there), the capture opens within the watch interval and a knock on
 * it opens the door for the knocking source; the interface is then deleted and made again (a new
 * index, as a VPN's or a container's veth gets), and a knock on the new one opens the door again.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { knock, probe, sleep } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const SEQUENCE = [7401, 7402, 7403];
const DURATION_S = 3;

describe('late_interfaces: an interface that appears after the start, and is made again', () => {
  const late = (id: string): string => `kgL${id}`;
  const s = useScenario({
    banner: [22],
    interfaces: ({ tb }) => [tb.server.clientSide.ifname, late(tb.id)],
    settings: ({ tb }) => [`late_interfaces: [${late(tb.id)}]`],
    doors: () => [
      '  - name: ssh',
      `    sequence: [${SEQUENCE.join(', ')}]`,
      '    open: [22/tcp]',
      `    duration: ${DURATION_S}s`,
    ],
  });
  const { tb, daemon } = s;
  const SERVER = '198.18.250.1';
  const PEER = '198.18.250.2';

  /** A veth from the server to the "other" namespace, with its own subnet. */
  const makeLink = (): void => {
    const ip = (...a: string[]) => {
      const r = spawnSync('ip', a, { encoding: 'utf8' });
      assert.equal(r.status, 0, `ip ${a.join(' ')}: ${r.stderr}`);
    };
    ip(
      'link',
      'add',
      late(tb.id),
      'netns',
      tb.server.ns,
      'type',
      'veth',
      'peer',
      'name',
      `kgl${tb.id}`,
      'netns',
      tb.other.ns,
    );
    ip('-n', tb.server.ns, 'addr', 'add', `${SERVER}/24`, 'dev', late(tb.id));
    ip('-n', tb.other.ns, 'addr', 'add', `${PEER}/24`, 'dev', `kgl${tb.id}`);
    ip('-n', tb.server.ns, 'link', 'set', late(tb.id), 'up');
    ip('-n', tb.other.ns, 'link', 'set', `kgl${tb.id}`, 'up');
  };
  const upLines = () => daemon.lines.filter((l) => l.event === 'interface-up' && l.interface === late(tb.id));

  it('starts without it, saying so', () => {
    assert.ok(daemon.lines.some((l) => l.event === 'interface-gone' && l.interface === late(tb.id)));
    assert.ok(daemon.lines.some((l) => l.event === 'ready'));
  });

  it('drops the protected port on it from the start, captures it within the watch interval, and a knock there opens the door', async () => {
    makeLink();
    const early = probe(tb, tb.other.ns, SERVER, 22);
    assert.equal(early.outcome, 'timeout');
    assert.deepEqual(early.replies, []);
    await daemon.waitFor((l) => l.event === 'interface-up' && l.interface === late(tb.id), 5000, 'the capture on it');
    knock(tb, tb.other.ns, SERVER, SEQUENCE);
    await daemon.waitFor((l) => l.event === 'grant' && l.source === PEER, 5000, 'the grant');
    assert.equal(probe(tb, tb.other.ns, SERVER, 22).outcome, 'open');
  });

  it('deleted and made again (a new index): captured again, and a knock on it opens the door again', async () => {
    await sleep((DURATION_S + 1) * 1000); // the first grant runs out
    assert.equal(probe(tb, tb.other.ns, SERVER, 22).outcome, 'timeout');
    tb.run(tb.server.ns, ['ip', 'link', 'del', late(tb.id)]);
    await daemon.waitFor(() => daemon.lines.filter((x) => x.event === 'interface-gone').length >= 2, 5000, 'gone');
    const before = upLines().length;
    makeLink();
    await daemon.waitFor(() => upLines().length > before, 5000, 'the capture on the new interface');
    const n = daemon.lines.length;
    knock(tb, tb.other.ns, SERVER, SEQUENCE);
    await daemon.waitFor(
      (l) => daemon.lines.indexOf(l) >= n && l.event === 'grant' && l.source === PEER,
      5000,
      'the second grant',
    );
    assert.equal(probe(tb, tb.other.ns, SERVER, 22).outcome, 'open');
  });
});
