/**
 * Native SPA through the iptables gate (`firewall: iptables`), on the real kernel: credentials by
 * the real `knockgate keygen` and `add-client`, packets by the real `knockgate knock`, one door
 * read from its UDP socket and one read by libpcap (nothing listens; its port is hidden), grants
 * as ipset entries. Over IPv4 and IPv6: filtered before, open for the sending source only after,
 * filtered again when the grant runs out, and a restart mid-grant keeps the grant's expiry.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KNOCKGATE, probe, sleep } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';
import { ipsetEntries } from '../support/ipset.js';

const DURATION_S = 5;

describe('native SPA, iptables gate with ipset, real kernel', () => {
  const s = useScenario({
    banner: [22, 2222],
    serverKey: true,
    replayJournal: true,
    clients: {
      alice: ['--door', 'ssh', '--port', '62201'],
      carol: ['--door', 'quiet', '--port', '62202'],
    },
    settings: (s) => ['firewall: iptables', `pending_commands: ${JSON.stringify(s.path('pending-commands.json'))}`],
    doors: ({ clientEntry }) => [
      '  - name: ssh',
      '    spa: { port: 62201 }',
      '    open: [22/tcp]',
      `    duration: ${DURATION_S}s`,
      '    clients:',
      ...clientEntry('alice'),
      '  - name: quiet',
      '    spa: { port: 62202, capture: pcap }',
      '    open: [2222/tcp]',
      `    duration: ${DURATION_S}s`,
      '    clients:',
      ...clientEntry('carol'),
    ],
  });
  const { tb, cred } = s;
  const send = (host: string, who: string): void => {
    tb.run(tb.client.ns, [process.execPath, KNOCKGATE, 'knock', host, '-c', cred(who)]);
  };
  const filtered = (ns: string, addr: string, port: number): void => {
    const r = probe(tb, ns, addr, port);
    assert.equal(r.outcome, 'timeout', `${addr}:${port} from ${ns}`);
    assert.deepEqual(r.replies, []);
  };
  const granted = (client: string, source: string) => () =>
    s.daemon.lines.filter((l) => l.event === 'grant' && l.client === client && l.source === source).length;

  it('the SPA sockets are kept out of connection tracking, the captured SPA port is hidden', () => {
    const raw = tb.run(tb.server.ns, ['iptables', '-t', 'raw', '-S', 'kg_knockgate_pre']);
    assert.match(raw, /^-A kg_knockgate_pre -p udp -m udp --dport 62201 -j CT --notrack$/m);
    assert.match(raw, /^-A kg_knockgate_pre -p udp -m udp --dport 62202 -j CT --notrack$/m);
    assert.match(tb.run(tb.server.ns, ['ip6tables', '-S', 'kg_knockgate_in']), /--dport 62202 -j DROP/);
  });

  for (const family of [4, 6] as const) {
    it(`IPv${family}: filtered before, open for the sender alone after, filtered again after the grant (socket door)`, async () => {
      const host = family === 4 ? tb.server.clientSide.v4 : tb.server.clientSide.v6;
      const source = family === 4 ? tb.client.v4 : tb.client.v6;
      const otherHost = family === 4 ? tb.server.otherSide.v4 : tb.server.otherSide.v6;
      filtered(tb.client.ns, host, 22);
      const n = granted('alice', source)();
      send(host, 'alice');
      await s.daemon.waitFor(() => granted('alice', source)() > n, 5000, 'the grant');
      const grantedAt = Date.now();
      assert.equal(probe(tb, tb.client.ns, host, 22).outcome, 'open');
      filtered(tb.other.ns, otherHost, 22);
      filtered(tb.client.ns, host, 2222); // alice's door opens 22 only
      assert.deepEqual([...ipsetEntries(tb, `kg_knockgate_g${family}`).keys()], [`${source},tcp:22`]);
      await sleep(Math.max(0, grantedAt + DURATION_S * 1000 + 800 - Date.now()));
      filtered(tb.client.ns, host, 22);
    });
  }

  it('IPv6 through libpcap (the door where nothing listens): open for the sender, and a restart mid-grant keeps its expiry', async () => {
    const host = tb.server.clientSide.v6;
    filtered(tb.client.ns, host, 2222);
    const n = granted('carol', tb.client.v6)();
    send(host, 'carol');
    await s.daemon.waitFor(() => granted('carol', tb.client.v6)() > n, 5000, 'the grant through libpcap');
    const grantedAt = Date.now();
    assert.equal(probe(tb, tb.client.ns, host, 2222).outcome, 'open');
    filtered(tb.other.ns, tb.server.otherSide.v6, 2222);
    await sleep(1200);
    const daemon = await s.restart('SIGTERM');
    assert.deepEqual(
      daemon.lines.filter((l) => l.event === 'grant-adopted').map((l) => [l.source, l.port]),
      [[tb.client.v6, '2222/tcp']],
    );
    const left = ipsetEntries(tb, 'kg_knockgate_g6').get(`${tb.client.v6},tcp:2222`);
    assert.ok(left !== undefined && left < DURATION_S, `${left} s left after the restart`);
    assert.equal(probe(tb, tb.client.ns, host, 2222).outcome, 'open');
    await sleep(Math.max(0, grantedAt + DURATION_S * 1000 + 800 - Date.now()));
    filtered(tb.client.ns, host, 2222);
  });
});
