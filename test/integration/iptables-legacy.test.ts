/**
 * The iptables gate on iptables-legacy, on the real kernel: the same knockgated, in a mount
 * namespace of its own where the iptables programs are the legacy ones (xtables-legacy-multi bound
 * over xtables-nft-multi, as `update-alternatives --set iptables /usr/sbin/iptables-legacy` would
 * make them; the host's alternatives are not touched). Its rules land in the legacy tables (nft
 * sees none of them), and it does what it does on iptables-nft: filtered before, open for the
 * knocking source only, a restart keeps the grant, filtered after.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { knock, probe, sleep, startDaemon, type DaemonHandle } from '../support/daemon-process.js';
import { ipsetEntries } from '../support/ipset.js';
import type { Testbed } from '../support/netns.js';
import { useScenario } from '../support/scenario.js';

const SEQUENCE = [7801, 7802, 7803];
const DURATION_S = 6;
const LEGACY = 'mount --bind /usr/sbin/xtables-legacy-multi /usr/sbin/xtables-nft-multi && exec "$@"';

/** The testbed, with processes it starts running where `iptables` is iptables-legacy. */
function onLegacy(tb: Testbed): Testbed {
  return {
    ...tb,
    start: (ns, argv, env) =>
      tb.start(ns, ['unshare', '-m', '--propagation', 'private', 'sh', '-c', LEGACY, 'sh', ...argv], env),
  };
}

describe('iptables gate on iptables-legacy, real kernel', () => {
  const s = useScenario({
    banner: [22],
    start: false,
    settings: (s) => ['firewall: iptables', `pending_commands: ${JSON.stringify(s.path('pending-commands.json'))}`],
    doors: () => [
      '  - name: ssh',
      `    sequence: [${SEQUENCE.join(', ')}]`,
      '    open: [22/tcp]',
      `    duration: ${DURATION_S}s`,
    ],
  });
  const { tb } = s;
  let daemon: DaemonHandle;
  const filtered = (ns: string, addr: string): void => {
    const r = probe(tb, ns, addr, 22);
    assert.equal(r.outcome, 'timeout', `${addr} from ${ns}`);
    assert.deepEqual(r.replies, []);
  };

  it('installs into the legacy tables of both families, and nft sees none of it', async () => {
    daemon = await startDaemon(onLegacy(tb), s.configFile);
    assert.match(tb.run(tb.server.ns, ['iptables-legacy', '-S', 'INPUT']), /^-A INPUT -j kg_knockgate_in$/m);
    assert.match(tb.run(tb.server.ns, ['ip6tables-legacy', '-S', 'INPUT']), /^-A INPUT -j kg_knockgate_in$/m);
    assert.doesNotMatch(tb.run(tb.server.ns, ['nft', 'list', 'ruleset']), /kg_knockgate/);
    filtered(tb.client.ns, tb.server.clientSide.v4);
    filtered(tb.client.ns, tb.server.clientSide.v6);
  });

  it('IPv4 and IPv6 knocks open for their source only; a restart keeps the grant; filtered after', async () => {
    knock(tb, tb.client.ns, tb.server.clientSide.v4, SEQUENCE);
    knock(tb, tb.client.ns, tb.server.clientSide.v6, SEQUENCE);
    for (const source of [tb.client.v4, tb.client.v6])
      await daemon.waitFor((l) => l.event === 'grant' && l.source === source, 5000, `the grant for ${source}`);
    const grantedAt = Date.now();
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v6, 22).outcome, 'open');
    filtered(tb.other.ns, tb.server.otherSide.v4);
    filtered(tb.other.ns, tb.server.otherSide.v6);

    process.kill(daemon.pid, 'SIGTERM');
    assert.equal(await daemon.exited(), 0);
    daemon = await startDaemon(onLegacy(tb), s.configFile);
    assert.equal(daemon.lines.filter((l) => l.event === 'grant-adopted').length, 2);
    assert.equal(tb.run(tb.server.ns, ['iptables-legacy', '-S', 'INPUT']).match(/kg_knockgate_in/g)?.length, 1);
    assert.equal(ipsetEntries(tb, 'kg_knockgate_g6').size, 1);
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v6, 22).outcome, 'open');
    await sleep(Math.max(0, grantedAt + DURATION_S * 1000 + 800 - Date.now()));
    filtered(tb.client.ns, tb.server.clientSide.v4);
    filtered(tb.client.ns, tb.server.clientSide.v6);
    process.kill(daemon.pid, 'SIGTERM');
    assert.equal(await daemon.exited(), 0);
  });
});
