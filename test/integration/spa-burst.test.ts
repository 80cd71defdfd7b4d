/**
 * A burst of valid SPA packets from 1,000 distinct sources within half a second, on the real
 * kernel: every one is granted (one element per source in the kernel's set, none twice), nothing
 * is dropped on the way, for native SPA and for fwknop-compatible SPA. The packets come from the
 * benchmark's sender (bench/flood.c, `frames` mode: whole frames with spoofed sources, paced).
 * This asserts completeness, not speed; docs/benchmarks.md has the figures.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { macOf, startFlood } from '../../bench/flood.js';
import { udpFrame, writeFramesFile } from '../../bench/frames.js';
import { buildSpaDatagram } from '../../src/client/spa-sender.js';
import { sealFwknop } from '../../src/core/spa/fwknop-wire.js';
import { readClientCredential } from '../../src/stores/key-files.js';
import { sleep } from '../support/daemon-process.js';
import { spoofedV4 } from '../support/netns.js';
import { useScenario } from '../support/scenario.js';

const SOURCES = 1000;
const RATE_PPS = 2000;

const sourceOf = spoofedV4;

describe('SPA bursts from 1,000 distinct sources', () => {
  let srcMac: string;
  let dstMac: string;
  const fwknopKeys = {
    key: randomBytes(32),
    hmacKey: randomBytes(64),
    hmacType: 'sha256' as const,
    encryptionMode: 'cbc' as const,
  };
  const { tb, daemon, path } = useScenario({
    spoofedSources: true,
    serverKey: true,
    clients: { alice: ['--door', 'native', '--port', '62201'] },
    files: () => ({
      'access.conf': [
        'SOURCE ANY',
        'OPEN_PORTS tcp/2222',
        `KEY_BASE64 ${fwknopKeys.key.toString('base64')}`,
        `HMAC_KEY_BASE64 ${fwknopKeys.hmacKey.toString('base64')}`,
        'HMAC_DIGEST_TYPE sha256',
        'FW_ACCESS_TIMEOUT 120',
        '',
      ].join('\n'),
    }),
    interfaces: ({ tb }) => [tb.server.clientSide.ifname],
    replayJournal: true,
    doors: ({ clientEntry }) => [
      '  - name: native',
      '    spa: { port: 62201 }',
      '    open: [22/tcp]',
      '    duration: 120s',
      '    clients:',
      ...clientEntry('alice'),
      '  - name: fwknop',
      '    fwknop: { port: 62202 }',
      '    access_conf: access.conf',
      '    open: [2222/tcp]',
      '    duration: 120s',
    ],
  });

  before(() => {
    srcMac = macOf(tb, tb.client.ns, tb.client.ifname);
    dstMac = macOf(tb, tb.server.ns, tb.server.clientSide.ifname);
  });

  /** Sends the frames, then waits (bounded) until `port` is granted to `SOURCES` elements. */
  async function burst(
    name: string,
    payloadOf: (i: number) => Uint8Array,
    dport: number,
    openPort: number,
  ): Promise<string[]> {
    const frames = Array.from({ length: SOURCES }, (_, i) =>
      udpFrame({
        srcMac,
        dstMac,
        src: sourceOf(i),
        dst: tb.server.clientSide.v4,
        sport: 20_000 + i,
        dport,
        payload: payloadOf(i),
      }),
    );
    const file = path(`${name}.frames`);
    writeFramesFile(file, frames);
    const sent = await startFlood(tb, tb.client.ns, {
      mode: 'frames',
      framesFile: file,
      ifname: tb.client.ifname,
      srcMac,
      dstMac,
      dst: tb.server.clientSide.v4,
      rate: RATE_PPS,
      count: SOURCES,
      seconds: 30,
    }).done;
    assert.equal(sent.sent, SOURCES);
    assert.ok(sent.seconds < 1, `sent within one second (took ${sent.seconds} s)`);
    let granted: string[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const listing = JSON.parse(
        tb.run(tb.server.ns, ['nft', '-j', 'list', 'set', 'inet', 'knockgate', 'grants4']),
      ) as { nftables: { set?: { elem?: { elem: { val: { concat: [string, string, number] } } }[] } }[] };
      const elems = listing.nftables.find((x) => x.set)?.set?.elem ?? [];
      granted = elems
        .map((e) => e.elem.val.concat)
        .filter((c) => c[2] === openPort)
        .map((c) => c[0]);
      if (granted.length >= SOURCES) break;
      await sleep(200);
    }
    return granted;
  }

  it('1,000 native SPA packets: 1,000 grants, one per source, none lost', async () => {
    const cred = readClientCredential(path('alice.yaml'));
    const granted = await burst(
      'native',
      () => buildSpaDatagram(cred, { ports: [], durationS: 0, address: null, prefix: 0 }, Date.now()),
      62201,
      22,
    );
    assert.equal(granted.length, SOURCES);
    assert.deepEqual(new Set(granted), new Set(Array.from({ length: SOURCES }, (_, i) => sourceOf(i))));
    process.kill(daemon.pid, 'SIGUSR1');
    const stats = await daemon.waitFor(
      (l) => l.event === 'stats' && (l.spa_accepted as number) >= SOURCES,
      5000,
      'the counters',
    );
    assert.equal(stats.spa_accepted, SOURCES);
    assert.equal(stats.socket_dropped, 0);
  });

  it('1,000 fwknop-compatible packets: 1,000 grants, one per source, none lost', async () => {
    const granted = await burst(
      'fwknop',
      (i) =>
        sealFwknop(
          {
            username: 'burst',
            timestamp: Math.floor(Date.now() / 1000),
            messageType: 1,
            message: `${sourceOf(i)},tcp/2222`,
          },
          fwknopKeys,
          { salt: randomBytes(8), randomDigits: String(1e15 + i).padStart(16, '1') },
        ),
      62202,
      2222,
    );
    assert.equal(granted.length, SOURCES);
    assert.deepEqual(new Set(granted), new Set(Array.from({ length: SOURCES }, (_, i) => sourceOf(i))));
    process.kill(daemon.pid, 'SIGUSR1');
    const stats = await daemon.waitFor(
      (l) => l.event === 'stats' && (l.fwknop_accepted as number) >= SOURCES,
      5000,
      'the counters',
    );
    assert.equal(stats.fwknop_accepted, SOURCES);
    assert.equal(stats.socket_dropped, 0);
  });
});
