/**
 * Classic knock sequences through the iptables gate (`firewall: iptables`), end to end on the real
 * kernel: the real knockgated (libpcap capture) in a server namespace, iptables (Debian 12's
 * default, iptables-nft) and ipset there, clients in two other namespaces, probes that watch the
 * wire for RST and ICMP. Over IPv4 and IPv6: filtered before, open for the knocking source only
 * after, one set entry however often it knocks, filtered again when the grant runs out, and a
 * daemon restarted mid-grant keeps the grant with the time it had left; its stop leaves the
 * chains and sets, so the ports stay closed.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { knock, probe, sleep } from '../support/daemon-process.js';
import { ipsetEntries } from '../support/ipset.js';
import { useScenario } from '../support/scenario.js';

const SEQUENCE = [7401, 7402, '7403/udp'];
const DURATION_S = 6;

describe('classic knock sequence, iptables gate with ipset, real kernel', () => {
  const s = useScenario({
    banner: [22],
    interfaces: ({ tb }) => [tb.server.clientSide.ifname, tb.server.otherSide.ifname],
    settings: (s) => ['firewall: iptables', `pending_commands: ${JSON.stringify(s.path('pending-commands.json'))}`],
    doors: () => [
      '  - name: ssh',
      `    sequence: [${SEQUENCE.map((x) => JSON.stringify(x)).join(', ')}]`,
      '    sequence_timeout: 10s',
      '    open: [22/tcp]',
      `    duration: ${DURATION_S}s`,
      '    hide_knock_ports: true',
    ],
  });
  const { tb } = s;
  /** Knocks from the client to `host` and waits for a new grant that opened (not extended) for `source`. */
  const openFor = async (source: string, host: string): Promise<void> => {
    const opened = () =>
      s.daemon.lines.filter((l) => l.event === 'grant' && l.source === source && l.verdict === 'opened').length;
    const n = opened();
    knock(tb, tb.client.ns, host, SEQUENCE);
    await s.daemon.waitFor(() => opened() > n, 5000, `a new grant for ${source}`);
  };
  const filtered = (ns: string, addr: string, port = 22): void => {
    const r = probe(tb, ns, addr, port);
    assert.equal(r.outcome, 'timeout', `${addr}:${port} from ${ns}`);
    assert.deepEqual(r.replies, []);
  };

  it('installs its chains first in INPUT and FORWARD of iptables and ip6tables, and hides 22/tcp and the knock ports', () => {
    for (const cmd of ['iptables', 'ip6tables']) {
      assert.match(tb.run(tb.server.ns, [cmd, '-S', 'INPUT']), /^-P INPUT ACCEPT\n-A INPUT -j kg_knockgate_in\n/);
      assert.match(
        tb.run(tb.server.ns, [cmd, '-S', 'FORWARD']),
        /^-P FORWARD ACCEPT\n-A FORWARD -j kg_knockgate_fwd\n/,
      );
    }
    filtered(tb.client.ns, tb.server.clientSide.v4);
    filtered(tb.other.ns, tb.server.otherSide.v4);
    filtered(tb.client.ns, tb.server.clientSide.v6);
    filtered(tb.other.ns, tb.server.otherSide.v4, 7401);
    // Control: an unprotected closed port answers with RST, so "no reply" above is a silent port.
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 23).outcome, 'refused');
  });

  it('IPv4: opens 22/tcp for the knocking client alone', async () => {
    knock(tb, tb.client.ns, tb.server.clientSide.v4, SEQUENCE);
    const grant = await s.daemon.waitFor((l) => l.event === 'grant' && l.source === tb.client.v4, 5000, 'the grant');
    assert.equal(grant.verdict, 'opened');
    const r = probe(tb, tb.client.ns, tb.server.clientSide.v4, 22);
    assert.equal(r.outcome, 'open');
    assert.match(r.banner ?? '', /^SSH-2\.0-/);
    filtered(tb.other.ns, tb.server.otherSide.v4);
    filtered(tb.client.ns, tb.server.clientSide.v6); // the same client over IPv6 holds no grant
    assert.deepEqual([...ipsetEntries(tb, 'kg_knockgate_g4').keys()], [`${tb.client.v4},tcp:22`]);
  });

  it('IPv6: opens for the IPv6 address only; knocking twice leaves one entry, its timeout moved on', async () => {
    knock(tb, tb.client.ns, tb.server.clientSide.v6, SEQUENCE);
    await s.daemon.waitFor((l) => l.event === 'grant' && l.source === tb.client.v6, 5000, 'the IPv6 grant');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v6, 22).outcome, 'open');
    filtered(tb.other.ns, tb.server.otherSide.v6);
    await sleep(2100);
    const before = ipsetEntries(tb, 'kg_knockgate_g6').get(`${tb.client.v6},tcp:22`);
    assert.ok(before !== undefined && before <= DURATION_S - 2, `seconds left before: ${before}`);
    knock(tb, tb.client.ns, tb.server.clientSide.v6, SEQUENCE);
    await s.daemon.waitFor(
      (l) => l.event === 'grant' && l.source === tb.client.v6 && l.verdict === 'extended',
      5000,
      'the extension',
    );
    const entries = ipsetEntries(tb, 'kg_knockgate_g6');
    assert.equal(entries.size, 1, JSON.stringify([...entries]));
    assert.ok((entries.get(`${tb.client.v6},tcp:22`) ?? 0) > before, 'the second knock lengthened the entry');
    assert.equal(tb.run(tb.server.ns, ['ip6tables', '-S', 'kg_knockgate_in']).match(/--match-set/g)?.length, 2);
  });

  it('filtered again, over both families, once the grants run out', async () => {
    await s.daemon.waitFor((l) => l.event === 'grant-expired' && l.source === tb.client.v6, (DURATION_S + 4) * 1000);
    await sleep(300);
    filtered(tb.client.ns, tb.server.clientSide.v4);
    filtered(tb.client.ns, tb.server.clientSide.v6);
    assert.equal(ipsetEntries(tb, 'kg_knockgate_g4').size, 0);
  });

  it('a daemon restarted mid-grant (SIGTERM, start) keeps the grant and its expiry; while it is down the port stays closed to others', async () => {
    await openFor(tb.client.v6, tb.server.clientSide.v6);
    const grantedAt = Date.now();
    const first = s.daemon;
    process.kill(first.pid, 'SIGTERM');
    assert.equal(await first.exited(), 0);
    // Stopped: chains, jumps and sets stay (fail closed); the grant still holds on the kernel's clock.
    assert.match(tb.run(tb.server.ns, ['ip6tables', '-S', 'INPUT']), /-A INPUT -j kg_knockgate_in/);
    filtered(tb.other.ns, tb.server.otherSide.v6);
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v6, 22).outcome, 'open');
    await sleep(1500);

    const daemon = await s.start();
    const adopted = daemon.lines.filter((l) => l.event === 'grant-adopted');
    assert.deepEqual(
      adopted.map((l) => [l.source, l.port]),
      [[tb.client.v6, '22/tcp']],
    );
    const left = ipsetEntries(tb, 'kg_knockgate_g6').get(`${tb.client.v6},tcp:22`);
    assert.ok(left !== undefined && left <= DURATION_S - 1, `the restart did not renew the entry: ${left} s left`);
    assert.equal(tb.run(tb.server.ns, ['ip6tables', '-S', 'INPUT']).match(/kg_knockgate_in/g)?.length, 1, 'one jump');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v6, 22).outcome, 'open');
    // It ends when the first daemon's grant said it would, not DURATION_S after the restart.
    await sleep(Math.max(0, grantedAt + DURATION_S * 1000 + 800 - Date.now()));
    filtered(tb.client.ns, tb.server.clientSide.v6);
  });

  it('SIGKILL mid-grant: others stay locked out and the grant still ends on time', async () => {
    await openFor(tb.client.v4, tb.server.clientSide.v4);
    const grantedAt = Date.now();
    process.kill(s.daemon.pid, 'SIGKILL');
    await s.daemon.exited();
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
    filtered(tb.other.ns, tb.server.otherSide.v4);
    await sleep(Math.max(0, grantedAt + DURATION_S * 1000 + 800 - Date.now()));
    filtered(tb.client.ns, tb.server.clientSide.v4);
  });
});
