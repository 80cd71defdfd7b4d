/**
 * The forward path (`hook: forward`) through the iptables gate, on the real kernel: the server
 * namespace routes between the client and the "other" namespace, which stands for a LAN host or a
 * container behind it. Two doors:
 *   lan-web     guards 8080/tcp of the inner host, routed (a router in front of a LAN);
 *   published   guards 8081/tcp, which a Docker-style iptables rule (nat PREROUTING DNAT, as
 *               Docker writes for `-p 8081:8080`) sends on to the inner host's 8080: guarded by
 *               the number clients send to, before that DNAT, in knockgate's mangle chain.
 * What is asserted is what a client or a scanner sees: filtered before (no RST, no ICMP), open for
 * the knocking source after, filtered again once the grant runs out; a daemon restarted mid-grant
 * keeps it; IPv6 as well as IPv4.
 */

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { BANNER_SERVER, knock, probe, sleep } from '../support/daemon-process.js';
import { ipsetEntries } from '../support/ipset.js';
import { useScenario } from '../support/scenario.js';

const DURATION_S = 12;
const WEB = [7231, 7232, 7233];
const PUBLISHED = [7241, 7242, 7243];

describe('forward path, iptables gate, real kernel', () => {
  const s = useScenario({
    start: false,
    interfaces: ({ tb }) => [tb.server.clientSide.ifname],
    settings: (s) => ['firewall: iptables', `pending_commands: ${JSON.stringify(s.path('pending-commands.json'))}`],
    doors: () => [
      '  - name: lan-web',
      `    sequence: [${WEB.join(', ')}]`,
      '    open: [8080/tcp]',
      '    hook: forward',
      `    duration: ${DURATION_S}s`,
      '  - name: published',
      `    sequence: [${PUBLISHED.join(', ')}]`,
      '    open: [8081/tcp]',
      '    hook: forward',
      `    duration: ${DURATION_S}s`,
    ],
  });
  const { tb } = s;
  const srv = (): string => tb.server.clientSide.v4;

  before(async () => {
    tb.run(tb.server.ns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    // The client reaches the inner network through the server; the inner host answers the
    // client's own address through it too.
    tb.run(tb.client.ns, ['ip', 'route', 'add', `${tb.other.v4.replace(/\.\d+$/, '.0')}/24`, 'via', srv()]);
    tb.run(tb.client.ns, [
      'ip',
      '-6',
      'route',
      'add',
      `${tb.other.v6.replace(/::2$/, '::')}/64`,
      'via',
      tb.server.clientSide.v6,
    ]);
    tb.run(tb.other.ns, ['ip', 'route', 'add', `${tb.client.v4}/32`, 'via', tb.server.otherSide.v4]);
    tb.run(tb.other.ns, ['ip', '-6', 'route', 'add', `${tb.client.v6}/128`, 'via', tb.server.otherSide.v6]);
    // What Docker (iptables) does for `-p 8081:8080`: a DNAT in nat PREROUTING, through a chain of its own.
    tb.run(
      tb.server.ns,
      ['iptables-restore', '--noflush'],
      [
        '*nat',
        ':DOCKER - [0:0]',
        '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
        `-A DOCKER -p tcp -m tcp --dport 8081 -j DNAT --to-destination ${tb.other.v4}:8080`,
        'COMMIT',
        '',
      ].join('\n'),
    );
    const banner = tb.start(tb.other.ns, [process.execPath, BANNER_SERVER, '8080']);
    let heard = '';
    banner.stdout?.on('data', (d: Buffer) => {
      heard += d.toString();
    });
    for (let i = 0; i < 100 && !heard.includes('listening'); i++) await sleep(20);
    // Controls: without knockgate, each path is open (so "timeout" below means knockgate's drop).
    assert.equal(probe(tb, tb.client.ns, tb.other.v4, 8080).outcome, 'open');
    // (IPv6 may need a moment: the routers' neighbour discovery on the first packets.)
    let v6 = probe(tb, tb.client.ns, tb.other.v6, 8080).outcome;
    for (let i = 0; i < 5 && v6 !== 'open'; i++) v6 = probe(tb, tb.client.ns, tb.other.v6, 8080, 2000).outcome;
    assert.equal(v6, 'open');
    assert.equal(probe(tb, tb.client.ns, srv(), 8081).outcome, 'open');
    await s.start();
  });

  const filtered = (host: string, port: number): void => {
    const r = probe(tb, tb.client.ns, host, port);
    assert.equal(r.outcome, 'timeout', `${host}:${port}`);
    assert.deepEqual(r.replies, []);
  };
  const grantFor = (door: string, source: string) =>
    s.daemon.waitFor((l) => l.event === 'grant' && l.door === door && l.source === source, 5000, `${door} grant`);

  it('jumps first to its mangle chain in PREROUTING of both families, ahead of the nat table, and hides each path', () => {
    for (const cmd of ['iptables', 'ip6tables'])
      assert.match(
        tb.run(tb.server.ns, [cmd, '-t', 'mangle', '-S', 'PREROUTING']),
        /^-P PREROUTING ACCEPT\n-A PREROUTING -j kg_knockgate_mng\n/,
      );
    filtered(tb.other.v4, 8080);
    filtered(tb.other.v6, 8080);
    filtered(srv(), 8081);
  });

  it("opens the inner host's port for the knocking source, over IPv4 and then IPv6", async () => {
    knock(tb, tb.client.ns, srv(), WEB);
    await grantFor('lan-web', tb.client.v4);
    const r = probe(tb, tb.client.ns, tb.other.v4, 8080);
    assert.equal(r.outcome, 'open');
    assert.match(r.banner ?? '', /^SSH-2\.0-/);
    // The grant is the IPv4 source's: the same client over IPv6 is still filtered.
    filtered(tb.other.v6, 8080);
    knock(tb, tb.client.ns, tb.server.clientSide.v6, WEB);
    await grantFor('lan-web', tb.client.v6);
    assert.equal(probe(tb, tb.client.ns, tb.other.v6, 8080).outcome, 'open');
    // lan-web's grant is for 8080: the published port 8081 stays filtered.
    filtered(srv(), 8081);
  });

  it('guards a published port by the number clients use, before its DNAT', async () => {
    knock(tb, tb.client.ns, srv(), PUBLISHED);
    await grantFor('published', tb.client.v4);
    const r = probe(tb, tb.client.ns, srv(), 8081);
    assert.equal(r.outcome, 'open');
    assert.match(r.banner ?? '', /^SSH-2\.0-/);
  });

  it('a restart mid-grant keeps the grants of forwarded ports', async () => {
    const before = ipsetEntries(tb, 'kg_knockgate_g4');
    assert.ok(before.has(`${tb.client.v4},tcp:8080`) && before.has(`${tb.client.v4},tcp:8081`), [...before].join());
    const restarted = await s.restart('SIGTERM');
    assert.ok(
      restarted.lines.some((l) => l.event === 'ready'),
      'ready after the restart',
    );
    const after = ipsetEntries(tb, 'kg_knockgate_g4');
    assert.ok(after.has(`${tb.client.v4},tcp:8080`) && after.has(`${tb.client.v4},tcp:8081`), [...after].join());
    assert.ok(ipsetEntries(tb, 'kg_knockgate_g6').has(`${tb.client.v6},tcp:8080`));
    assert.equal(probe(tb, tb.client.ns, tb.other.v4, 8080).outcome, 'open');
    assert.equal(probe(tb, tb.client.ns, tb.other.v6, 8080).outcome, 'open');
    assert.equal(probe(tb, tb.client.ns, srv(), 8081).outcome, 'open');
  });

  it('closes every path again when the grants run out', async () => {
    await sleep((DURATION_S + 1.5) * 1000);
    filtered(tb.other.v4, 8080);
    filtered(tb.other.v6, 8080);
    filtered(srv(), 8081);
  });
});
