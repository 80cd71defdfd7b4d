/**
 * A fwknop-compatible door under a flood of fwknop-shaped junk, on the real kernel, with the real
 * fwknop client (issue "Every promise holds at the edges", item 17). The door has many stanzas,
 * each with its own keys and SOURCE ANY, so that every junk datagram, from its own spoofed source,
 * asks for one HMAC per stanza. The daemon sheds that work past its budget (fwknop-overload), and
 * a client whose source proved a key before the flood still gets in during it. Bounded: 24,000
 * datagrams at 8,000/s, 30 s at most.
 */

import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { macOf, startFlood } from '../../bench/flood.js';
import { udpFrame, writeFramesFile } from '../../bench/frames.js';
import { probe, sleep } from '../support/daemon-process.js';
import { spoofedV4 } from '../support/netns.js';
import { useScenario } from '../support/scenario.js';

const STANZAS = 60;
const FLOOD_PACKETS = 24_000;
const FLOOD_PPS = 8_000;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

describe('fwknop door under a flood of fwknop-shaped junk', () => {
  const alice = { key: randomBytes(32).toString('base64'), hmac: randomBytes(64).toString('base64') };
  // Others' stanzas first (fwknopd tries them in file order), alice's last.
  const stanza = (k: { key: string; hmac: string }) =>
    [
      'SOURCE ANY',
      'OPEN_PORTS tcp/22',
      `KEY_BASE64 ${k.key}`,
      `HMAC_KEY_BASE64 ${k.hmac}`,
      'HMAC_DIGEST_TYPE sha256',
      'FW_ACCESS_TIMEOUT 30',
      '',
    ].join('\n');
  const others = Array.from({ length: STANZAS - 1 }, () => ({
    key: randomBytes(32).toString('base64'),
    hmac: randomBytes(64).toString('base64'),
  }));
  const { tb, daemon, path } = useScenario({
    spoofedSources: true,
    banner: [22],
    files: () => ({ 'access.conf': [...others, alice].map(stanza).join('\n') }),
    interfaces: ({ tb }) => [tb.server.clientSide.ifname],
    replayJournal: true,
    doors: () => [
      '  - name: fwknop',
      '    fwknop: { port: 62201, capture: pcap }',
      '    access_conf: access.conf',
      '    open: [22/tcp]',
      '    duration: 30s',
    ],
  });

  it('sheds the HMACs of unproven sources past the budget, and a client that got in before still opens during the flood', async () => {
    const fwknop = (): void =>
      void tb.run(tb.client.ns, [
        'fwknop',
        '--no-rc-file',
        '--no-save-args',
        '-A',
        'tcp/22',
        '-a',
        tb.client.v4,
        '-D',
        tb.server.clientSide.v4,
        '--key-base64-rijndael',
        alice.key,
        '--use-hmac',
        '--key-base64-hmac',
        alice.hmac,
        '--hmac-digest-type',
        'sha256',
      ]);
    fwknop();
    await daemon.waitFor((l) => l.event === 'grant' && l.verdict === 'opened', 5000, 'the first grant');
    tb.run(tb.server.ns, ['nft', 'flush', 'set', 'inet', 'knockgate', 'grants4']);
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22, 500).outcome, 'timeout');

    // The flood: random unpadded base64 of fwknop length, each from its own spoofed source.
    const srcMac = macOf(tb, tb.client.ns, tb.client.ifname);
    const dstMac = macOf(tb, tb.server.ns, tb.server.clientSide.ifname);
    const frames = Array.from({ length: FLOOD_PACKETS }, (_, i) => {
      const len = randomInt(140, 400);
      const payload = Buffer.alloc(len);
      for (let j = 0; j < len; j++) payload[j] = B64.charCodeAt(randomInt(64));
      return udpFrame({
        srcMac,
        dstMac,
        src: spoofedV4(i),
        dst: tb.server.clientSide.v4,
        sport: 30_000 + (i % 30_000),
        dport: 62201,
        payload,
      });
    });
    const file = path('junk.frames');
    writeFramesFile(file, frames);
    const flood = startFlood(tb, tb.client.ns, {
      mode: 'frames',
      framesFile: file,
      ifname: tb.client.ifname,
      srcMac,
      dstMac,
      dst: tb.server.clientSide.v4,
      rate: FLOOD_PPS,
      count: FLOOD_PACKETS,
      seconds: 30,
    });
    await sleep(1000); // the budget's burst is spent by now
    fwknop();
    const opened = probe(tb, tb.client.ns, tb.server.clientSide.v4, 22, 1500).outcome;
    await flood.done;

    process.kill(daemon.pid, 'SIGUSR1');
    const stats = await daemon.waitFor((l) => l.event === 'stats', 10_000, 'the counters');
    assert.equal(opened, 'open', 'the client opens during the flood');
    assert.ok(((stats.fwknop_rejected_overload as number) ?? 0) > 0, 'HMAC work past the budget was shed');
    assert.ok(((stats.fwknop_rejected_hmac as number) ?? 0) > 0, 'work within the budget was done, and refused');
    assert.equal(stats.fwknop_accepted, 2);
  });
});
