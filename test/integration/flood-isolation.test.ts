/**
 * One flood cannot starve another door (issue "Every promise holds at the edges", item 16), on the
 * real kernel: fwknop-shaped junk floods a fwknop door read through libpcap while a native SPA
 * client knocks on a door with its own socket. The capture binding takes at most a bounded number
 * of frames per readable event (native/pcap-capture.c), so the event loop still runs the socket,
 * the replay journal and the nftables worker during the flood, and the SPA grant is made while the
 * flood is still going, not after it ends. The delay is printed (it is a figure, not a benchmark).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { macOf, startFlood } from '../../bench/flood.js';
import { KNOCKGATE, sleep } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const FLOOD_PPS = 100_000;
const FLOOD_SECONDS = 6;

describe('a flood to a pcap-captured fwknop door', () => {
  const { tb, daemon, path } = useScenario({
    spoofedSources: true,
    banner: [22],
    serverKey: true,
    clients: { alice: ['--door', 'ssh', '--port', '62202'] },
    interfaces: ({ tb }) => [tb.server.clientSide.ifname],
    replayJournal: true,
    doors: ({ clientEntry }) => [
      '  - name: fw',
      '    fwknop: { port: 62201, capture: pcap }',
      '    open: [2222/tcp]',
      '    stanzas:',
      // Ten stanzas: each junk frame costs ten HMACs, more work than the daemon can do at the
      // flood's rate, so libpcap's ring never runs empty while the flood lasts.
      ...Array.from(
        { length: 10 },
        (_, i) => `      - { source: ANY, key: fwknop-flood-key-${i}, hmac_key: fwknop-flood-hmac-${i} }`,
      ),
      '  - name: ssh',
      '    spa: { port: 62202, capture: socket }',
      '    open: [22/tcp]',
      '    duration: 60s',
      '    clients:',
      ...clientEntry('alice'),
    ],
  });

  it('does not delay a native SPA grant on a socket door: it is made during the flood', async () => {
    const srcMac = macOf(tb, tb.client.ns, tb.client.ifname);
    const dstMac = macOf(tb, tb.server.ns, tb.server.clientSide.ifname);
    const flood = startFlood(tb, tb.client.ns, {
      mode: 'udp-fwknop',
      ifname: tb.client.ifname,
      srcMac,
      dstMac,
      dst: tb.server.clientSide.v4,
      spoof: '198.19.128.0/17',
      ports: [62201],
      rate: FLOOD_PPS,
      count: FLOOD_PPS * FLOOD_SECONDS,
      seconds: FLOOD_SECONDS,
    });
    let floodEnded = 0;
    const floodDone = flood.done.then((s) => {
      floodEnded = Date.now();
      return s;
    });
    await sleep(1500); // the flood is in full swing
    const before = daemon.lines.length;
    const knockedAt = Date.now();
    tb.run(tb.client.ns, [process.execPath, KNOCKGATE, 'knock', tb.server.clientSide.v4, '-c', path('alice.yaml')]);
    await daemon.waitFor(
      (l) => daemon.lines.indexOf(l) >= before && l.event === 'grant' && l.verdict === 'opened',
      15_000,
      'the SPA grant',
    );
    const grantedAt = Date.now();
    const summary = await floodDone;
    process.stdout.write(
      `# flood ${summary.sent} packets at ${Math.round(summary.pps)} pps; SPA knock to grant ${grantedAt - knockedAt} ms; grant ${floodEnded - grantedAt} ms before the flood ended\n`,
    );
    assert.ok(summary.sent > FLOOD_PPS, `the flood sent only ${summary.sent} packets`);
    assert.ok(
      grantedAt < floodEnded,
      `the SPA grant waited for the flood to end (granted ${grantedAt - floodEnded} ms after it)`,
    );
  });
});
