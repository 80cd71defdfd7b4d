/**
 * Native SPA under a flood that costs real work, on the real kernel: datagrams that pass MAC1
 * (made with the server's public key, as an insider could) from spoofed sources, each forcing a
 * key agreement before it fails. The daemon sheds that work past its budget (spa-overload), and a
 * client whose source proved a key before the flood still gets in during it.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { macOf, startFlood } from '../../bench/flood.js';
import { udpFrame, writeFramesFile } from '../../bench/frames.js';
import { sealSpa } from '../../src/core/spa/native-wire.js';
import { readClientCredential } from '../../src/stores/key-files.js';
import { KNOCKGATE, probe, sleep } from '../support/daemon-process.js';
import { spoofedV4 } from '../support/netns.js';
import { useScenario } from '../support/scenario.js';

const FLOOD_PACKETS = 16_000;
const FLOOD_PPS = 8_000;

describe('native SPA under a flood of MAC1-valid datagrams', () => {
  const { tb, daemon, path } = useScenario({
    spoofedSources: true,
    banner: [22],
    serverKey: true,
    clients: { alice: ['--door', 'ssh', '--port', '62201'] },
    interfaces: ({ tb }) => [tb.server.clientSide.ifname],
    replayJournal: true,
    doors: ({ clientEntry }) => [
      '  - name: ssh',
      '    spa: { port: 62201 }',
      '    open: [22/tcp]',
      '    duration: 60s',
      '    clients:',
      ...clientEntry('alice'),
    ],
  });

  it('sheds the work of unproven sources past the budget, and a client that proved its key before still opens during the flood', async () => {
    const knock = (): void =>
      void tb.run(tb.client.ns, [
        process.execPath,
        KNOCKGATE,
        'knock',
        tb.server.clientSide.v4,
        '-c',
        path('alice.yaml'),
      ]);
    // Before the flood: alice's address proves a key once.
    knock();
    await daemon.waitFor((l) => l.event === 'grant' && l.verdict === 'opened', 5000, 'the first grant');
    tb.run(tb.server.ns, ['nft', 'flush', 'set', 'inet', 'knockgate', 'grants4']);
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22, 500).outcome, 'timeout');

    // The flood: sealed to the server's real public key with a client id it does not know, so each
    // one passes MAC1 and costs a key agreement before it is refused.
    const serverPublicKey = readClientCredential(path('alice.yaml')).serverPublicKey;
    const srcMac = macOf(tb, tb.client.ns, tb.client.ifname);
    const dstMac = macOf(tb, tb.server.ns, tb.server.clientSide.ifname);
    const frames = Array.from({ length: FLOOD_PACKETS }, (_, i) =>
      udpFrame({
        srcMac,
        dstMac,
        src: spoofedV4(i),
        dst: tb.server.clientSide.v4,
        sport: 30_000 + (i % 30_000),
        dport: 62201,
        payload: sealSpa({
          serverPublicKey,
          doorId: 'ssh',
          clientId: randomBytes(16),
          secret: { mode: 'psk', psk: randomBytes(32) },
          request: {
            timestampMs: Date.now(),
            nonce: randomBytes(16),
            durationS: 0,
            address: null,
            prefix: 0,
            ports: [],
          },
          ephemeralPrivate: randomBytes(32),
          topBit: 0,
        }),
      }),
    );
    const file = path('insider.frames');
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
    knock();
    const opened = probe(tb, tb.client.ns, tb.server.clientSide.v4, 22, 1500).outcome;
    await flood.done;

    process.kill(daemon.pid, 'SIGUSR1');
    const stats = await daemon.waitFor((l) => l.event === 'stats', 5000, 'the counters');
    assert.equal(opened, 'open', 'alice opens during the flood');
    assert.ok((stats.spa_rejected_overload as number) > 0, 'work past the budget was shed');
    assert.ok((stats.spa_rejected_unknown_client as number) > 0, 'work within the budget was done, and refused');
    assert.equal(stats.spa_accepted, 2);
  });
});
