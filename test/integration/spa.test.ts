/**
 * Native SPA end to end on the real kernel: credentials made by the real `knockgate keygen` and
 * `add-client`, packets sent by the real `knockgate knock`, received by knockgated on a UDP socket
 * (and through libpcap for a door where nothing listens), grants in nftables. Replays are the
 * exact bytes an eavesdropper captured on the wire, sent again, also after restarts and SIGKILL.
 */

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { KNOCKGATE, BUILD_ROOT, probe, sleep } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const SPA_TOOL = join(BUILD_ROOT, 'test', 'support', 'spa-tool.js');
const DURATION_S = 4;

describe('native SPA', () => {
  const s = useScenario({
    banner: [22, 2222],
    serverKey: true,
    clients: {
      alice: ['--door', 'ssh', '--port', '62201'],
      bob: ['--door', 'ssh', '--mode', 'psk', '--port', '62201'],
      carol: ['--door', 'quiet', '--port', '62202'],
    },
    replayJournal: true,
    doors: ({ clientEntry }) => [
      '  - name: ssh',
      '    spa: { port: 62201 }',
      '    open: [22/tcp, 2222/tcp]',
      `    duration: ${DURATION_S}s`,
      '    max_duration: 1m',
      '    clients:',
      ...clientEntry('alice', ['allow: [22/tcp]', 'max_duration: 30s']),
      ...clientEntry('bob', ['other_address: true', 'widest_prefix: { ipv4: 24 }']),
      '  - name: quiet',
      '    spa: { port: 62202, capture: pcap }',
      '    open: [2222/tcp]',
      `    duration: ${DURATION_S}s`,
      '    clients:',
      ...clientEntry('carol'),
    ],
  });
  const { tb, daemon, cred, path } = s;

  const knock = (ns: string, host: string, who: string, extra: string[] = []): void => {
    tb.run(ns, [process.execPath, KNOCKGATE, 'knock', host, '-c', cred(who), ...extra]);
  };
  const waitSpa = (pred: (l: Record<string, unknown>) => boolean, what: string) =>
    daemon.waitFor((l) => l.event === 'spa' && pred(l), 5000, what);

  it('a valid SPA packet opens the port for its source only', async () => {
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout');
    knock(tb.client.ns, tb.server.clientSide.v4, 'alice');
    const grant = await daemon.waitFor((l) => l.event === 'grant' && l.client === 'alice', 5000, 'the grant');
    assert.equal(grant.source, tb.client.v4);
    assert.equal(grant.ports, '22/tcp');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'open');
    assert.equal(
      probe(tb, tb.client.ns, tb.server.clientSide.v4, 2222).outcome,
      'timeout',
      'alice may only open 22/tcp',
    );
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');
  });

  it('works over IPv6, with a psk client asking for two ports', async () => {
    knock(tb.client.ns, tb.server.clientSide.v6, 'bob', ['--ports', '22/tcp,2222/tcp']);
    await daemon.waitFor(
      (l) => l.event === 'grant' && l.client === 'bob' && l.source === tb.client.v6,
      5000,
      'the IPv6 grant',
    );
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v6, 2222).outcome, 'open');
  });

  it('the same datagram captured on the wire is rejected when sent again, from anywhere, also after a restart and after SIGKILL', async () => {
    const capture = tb.start(tb.server.ns, [process.execPath, SPA_TOOL, 'capture', '62201', '5000']);
    let out = '';
    capture.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    while (!out.includes('ready')) await sleep(20);
    knock(tb.other.ns, tb.server.otherSide.v4, 'alice');
    await new Promise((r) => capture.once('exit', r));
    const hex = out.split('\n')[1]?.trim() ?? '';
    assert.match(hex, /^[0-9a-f]{290,}$/);
    await daemon.waitFor((l) => l.event === 'grant' && l.source === tb.other.v4, 5000, 'the first (genuine) grant');

    const replay = async (ns: string, host: string, label: string): Promise<void> => {
      const before = daemon.lines.length;
      tb.run(ns, [process.execPath, SPA_TOOL, 'send', host, '62201', hex]);
      const line = await daemon.waitFor(
        (l) => daemon.lines.indexOf(l) >= before && l.event === 'spa',
        5000,
        `the verdict on the replay ${label}`,
      );
      assert.equal(line.verdict, 'rejected', label);
      assert.equal(line.reason, 'spa-replayed', label);
    };
    await replay(tb.other.ns, tb.server.otherSide.v4, 'from the same host');
    await replay(tb.client.ns, tb.server.clientSide.v4, 'from another host');

    await s.restart('SIGTERM');
    await replay(tb.client.ns, tb.server.clientSide.v4, 'after a restart');

    // A packet accepted just before SIGKILL is on disk before its grant.
    const hex2 = tb.run(tb.client.ns, [process.execPath, SPA_TOOL, 'build', cred('alice'), '0']).trim();
    tb.run(tb.client.ns, [process.execPath, SPA_TOOL, 'send', tb.server.clientSide.v4, '62201', hex2]);
    await daemon.waitFor(
      (l) => l.event === 'spa' && l.verdict === 'accepted' && l.source === tb.client.v4,
      5000,
      'acceptance',
    );
    await s.restart('SIGKILL');
    const before = daemon.lines.length;
    tb.run(tb.other.ns, [process.execPath, SPA_TOOL, 'send', tb.server.otherSide.v4, '62201', hex2]);
    const line = await daemon.waitFor(
      (l) => daemon.lines.indexOf(l) >= before && l.event === 'spa',
      5000,
      'the verdict after SIGKILL',
    );
    assert.equal(line.reason, 'spa-replayed');
  });

  it('rejects a stale packet, a wrong key and an unknown client, each with its reason', async () => {
    const send = (hex: string): void => {
      tb.run(tb.other.ns, [process.execPath, SPA_TOOL, 'send', tb.server.otherSide.v4, '62201', hex]);
    };
    send(tb.run(tb.other.ns, [process.execPath, SPA_TOOL, 'build', cred('alice'), String(-200_000)]).trim());
    const behind = await waitSpa((l) => l.reason === 'spa-stale', 'a stale rejection');
    assert.equal(behind.detail, "client clock 200 s behind this server's (or the packet is that old)");
    send(tb.run(tb.other.ns, [process.execPath, SPA_TOOL, 'build', cred('alice'), String(+200_000)]).trim());
    const ahead = await waitSpa(
      (l) => l.reason === 'spa-stale' && daemon.lines.filter((x) => x.reason === 'spa-stale').length === 2,
      'a second stale rejection (from the future)',
    );
    assert.equal(ahead.detail, "client clock 200 s ahead of this server's");

    // Bob's id with a different psk: right server key, wrong client key.
    const forged = path('forged.yaml');
    const bobText = (await import('node:fs'))
      .readFileSync(cred('bob'), 'utf8')
      .replace(/^psk: .*$/m, `psk: ${Buffer.alloc(32, 7).toString('base64url')}`);
    writeFileSync(forged, bobText, { mode: 0o600 });
    send(tb.run(tb.other.ns, [process.execPath, SPA_TOOL, 'build', forged, '0']).trim());
    await waitSpa((l) => l.reason === 'spa-auth', 'an auth rejection');

    const stranger = path('stranger.yaml');
    writeFileSync(
      stranger,
      bobText.replace(/^client_id: .*$/m, `client_id: ${Buffer.alloc(16, 9).toString('base64url')}`),
      { mode: 0o600 },
    );
    send(tb.run(tb.other.ns, [process.execPath, SPA_TOOL, 'build', stranger, '0']).trim());
    await waitSpa((l) => l.reason === 'spa-unknown-client', 'an unknown-client rejection');

    const otherServer = path('other-server.yaml');
    writeFileSync(
      otherServer,
      bobText.replace(/^server_public_key: .*$/m, `server_public_key: ${Buffer.alloc(32, 5).toString('base64url')}`),
      { mode: 0o600 },
    );
    send(tb.run(tb.other.ns, [process.execPath, SPA_TOOL, 'build', otherServer, '0']).trim());
    await waitSpa((l) => l.reason === 'spa-mac1', 'a mac1 rejection');

    send('00'.repeat(100));
    await waitSpa((l) => l.reason === 'spa-length', 'a length rejection');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 2222).outcome, 'timeout');
  });

  it("rejects ports, durations and addresses beyond the client's allowance", async () => {
    const refused = async (who: string, extra: string[], detail: RegExp): Promise<void> => {
      const before = daemon.lines.length;
      knock(tb.other.ns, tb.server.otherSide.v4, who, extra);
      const line = await daemon.waitFor(
        (l) => daemon.lines.indexOf(l) >= before && l.event === 'spa',
        5000,
        `the verdict on ${extra.join(' ')}`,
      );
      assert.equal(line.reason, 'spa-not-allowed', JSON.stringify(line));
      assert.match(String(line.detail), detail);
    };
    await refused('alice', ['--ports', '2222/tcp'], /2222\/tcp is not allowed/);
    await refused('alice', ['--duration', '1m'], /exceeds the client's maximum of 30s/);
    await refused('alice', ['--allow-ip', '198.51.100.9'], /not the packet source/);
    await refused('alice', ['--prefix', '24'], /wider than the client's limit/);
    await refused('bob', ['--prefix', '16'], /wider than the client's limit of \/24/);
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 2222).outcome, 'timeout');
  });

  it('grants a prefix to a client allowed one (carrier-grade NAT)', async () => {
    knock(tb.other.ns, tb.server.otherSide.v4, 'bob', ['--prefix', '24', '--ports', '2222/tcp']);
    const network = tb.other.v4.replace(/\.\d+$/, '.0/24');
    await daemon.waitFor((l) => l.event === 'grant' && l.source === network, 5000, 'the prefix grant');
    assert.match(
      tb.run(tb.server.ns, ['nft', 'list', 'set', 'inet', 'knockgate', 'grants4']),
      new RegExp(`${network.replace(/[./]/g, '\\$&')} \\. tcp \\. 2222`),
    );
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 2222).outcome, 'open');
  });

  it('keeps SPA datagrams out of connection tracking (a spoofed flood cannot fill the table)', () => {
    const entries = tb.run(tb.server.ns, ['conntrack', '-L', '-p', 'udp', '--orig-port-dst', '62201']);
    assert.equal(entries.trim(), '', entries);
    // Control: connection tracking is live in this namespace; other UDP flows are tracked.
    tb.run(tb.server.ns, [process.execPath, SPA_TOOL, 'send', tb.client.v4, '9', '00']);
    assert.match(tb.run(tb.server.ns, ['conntrack', '-L', '-p', 'udp', '--orig-port-dst', '9']), /dport=9/);
  });

  it('reads SPA through libpcap where nothing listens on the port', async () => {
    knock(tb.client.ns, tb.server.clientSide.v4, 'carol');
    await daemon.waitFor((l) => l.event === 'grant' && l.client === 'carol', 5000, 'the grant via pcap');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 2222).outcome, 'open');
    assert.doesNotMatch(tb.run(tb.server.ns, ['ss', '-uln']), /:62202\b/);
  });
});
