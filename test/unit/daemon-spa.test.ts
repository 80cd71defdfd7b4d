/**
 * The daemon built in process (test/support/daemon-harness.ts) driven by native SPA datagrams
 * (through a memory socket, and through the capture for a door in `capture: pcap` mode) and by
 * fwknop packets, to grants that carry the client's name, extensions, replays refused and
 * expiry on the manual clock. Packets are sealed by the real core with fresh keys.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Endpoint } from '../../src/core/endpoint.js';
import { sealFwknop } from '../../src/core/spa/fwknop-wire.js';
import { sealSpa } from '../../src/core/spa/native-wire.js';
import { serverKeysFromPrivate } from '../../src/core/spa/native-door-keys.js';
import { daemonHarness, T0_UNIX_MS } from '../support/daemon-harness.js';
import { udpFrame } from '../support/frames.js';

const SSH: Endpoint = { proto: 'tcp', port: 22 };
const ALICE = '198.18.0.2';
const SPA_PORT = 62201;

function nativeSetup(capture: 'socket' | 'pcap') {
  const serverKey = randomBytes(32);
  const server = serverKeysFromPrivate(serverKey, 'ssh', ['ssh']);
  const id = randomBytes(16);
  const psk = randomBytes(32);
  const yaml = [
    'interfaces: [any]',
    'spa: {server_key: /nonexistent/server.key}',
    'doors:',
    '  - name: ssh',
    `    spa: {port: ${SPA_PORT}, capture: ${capture}}`,
    '    open: [22]',
    '    duration: 30s',
    '    clients:',
    `      - {name: laptop, id: ${id.toString('base64url')}, psk: ${psk.toString('base64url')}}`,
    '',
  ].join('\n');
  const packet = (unixMs: number): Uint8Array =>
    sealSpa({
      serverPublicKey: server.publicKey,
      doorId: 'ssh',
      clientId: id,
      secret: { mode: 'psk', psk },
      request: { timestampMs: unixMs, nonce: randomBytes(16), durationS: 0, address: null, prefix: 0, ports: [] },
      ephemeralPrivate: randomBytes(32),
      topBit: 0,
    });
  return { serverKey, yaml, packet };
}

describe('Daemon (in process): native SPA', () => {
  it('a datagram on the SPA socket opens the door for its source, named by client; a replay is refused; a new packet extends; the grant runs out', async () => {
    const s = nativeSetup('socket');
    const h = await daemonHarness(s.yaml, { serverKey: s.serverKey });
    try {
      await h.daemon.start();
      assert.deepEqual(h.datagrams.ports(), [SPA_PORT]);
      assert.deepEqual(h.gate.layout.untrackedUdpPorts, [SPA_PORT]);
      assert.deepEqual(h.frames.opened, [], 'a socket door alone needs no capture');

      const first = s.packet(h.clock.unixMs());
      assert.equal(h.datagrams.deliver(SPA_PORT, first, ALICE), true);
      await h.settle();
      assert.equal(h.gate.admits(ALICE, SSH), true);
      assert.deepEqual(
        h.daemon.grants().map((g) => [g.door, g.source, g.client, g.sinceUnixMs]),
        [['ssh', ALICE, 'laptop', T0_UNIX_MS]],
      );
      assert.equal(h.daemon.stats().spa_accepted, 1);
      assert.equal(h.daemon.stats().socket_received, 1);
      assert.deepEqual(
        h.events('grant').map((l) => [l.fields.verdict, l.fields.client]),
        [['opened', 'laptop']],
      );

      h.datagrams.deliver(SPA_PORT, first, ALICE); // an eavesdropper's copy
      await h.settle();
      assert.equal(h.daemon.stats().spa_rejected_replayed, 1);
      assert.equal(h.daemon.stats().grants_extended, undefined, 'a replay buys nothing');

      await h.advance(20_000);
      h.datagrams.deliver(SPA_PORT, s.packet(h.clock.unixMs()), ALICE);
      await h.settle();
      assert.equal(h.daemon.stats().grants_extended, 1);
      await h.advance(29_000);
      assert.equal(h.gate.admits(ALICE, SSH), true, 'extended to 50 s');
      await h.advance(1_000);
      assert.equal(h.gate.admits(ALICE, SSH), false);
      assert.deepEqual(h.daemon.grants(), []);
      assert.equal(h.daemon.stats().grants_expired, 1);
    } finally {
      await h.close();
    }
  });

  it('a packet outside the freshness window is refused as stale and opens nothing', async () => {
    const s = nativeSetup('socket');
    const h = await daemonHarness(s.yaml, { serverKey: s.serverKey });
    try {
      await h.daemon.start();
      h.datagrams.deliver(SPA_PORT, s.packet(h.clock.unixMs() - 10 * 60_000), ALICE);
      await h.settle();
      assert.equal(h.daemon.stats().spa_rejected_stale, 1);
      assert.equal(h.gate.admits(ALICE, SSH), false);
    } finally {
      await h.close();
    }
  });

  it('a door in capture mode takes its datagrams from the capture (its port in the filter and hidden in the firewall)', async () => {
    const s = nativeSetup('pcap');
    const h = await daemonHarness(s.yaml, { serverKey: s.serverKey });
    try {
      await h.daemon.start();
      assert.deepEqual(h.datagrams.ports(), []);
      assert.match(h.frames.live()[0]?.filter ?? '', new RegExp(String(SPA_PORT)));
      assert.deepEqual(h.gate.layout.hiddenPorts, [{ proto: 'udp', port: SPA_PORT }]);
      h.frames.inject(udpFrame({ src: ALICE }, SPA_PORT, s.packet(h.clock.unixMs())));
      await h.settle();
      assert.equal(h.gate.admits(ALICE, SSH), true);
      assert.equal(h.daemon.grants()[0]?.client, 'laptop');
      assert.equal(h.daemon.stats().knocks_progress, undefined, 'an SPA datagram is not a knock');
    } finally {
      await h.close();
    }
  });
});

describe('Daemon (in process): fwknop', () => {
  const key = randomBytes(24);
  const hmac = randomBytes(48);
  const yaml = [
    'interfaces: [any]',
    'doors:',
    '  - name: fw',
    `    fwknop: {port: ${SPA_PORT}}`,
    '    open: [22]',
    '    duration: 30s',
    '    stanzas:',
    `      - {source: ANY, key_base64: "${key.toString('base64')}", hmac_key_base64: "${hmac.toString('base64')}", hmac_digest_type: sha256}`,
    '',
  ].join('\n');
  const packet = (unixMs: number): Uint8Array =>
    sealFwknop(
      {
        username: 'alice',
        timestamp: Math.floor(unixMs / 1000),
        messageType: 1,
        message: '0.0.0.0,tcp/22',
        clientTimeout: null,
      },
      { key, hmacKey: hmac, hmacType: 'sha256', encryptionMode: 'cbc' },
      { salt: randomBytes(8), randomDigits: '1234567890123456' },
    );

  it('an fwknop access message opens the door for its source; the same packet again is refused as replayed; the grant runs out', async () => {
    const h = await daemonHarness(yaml);
    try {
      await h.daemon.start();
      const p = packet(h.clock.unixMs());
      h.frames.inject(udpFrame({ src: ALICE }, SPA_PORT, p));
      await h.settle();
      assert.equal(h.daemon.stats().fwknop_accepted, 1);
      assert.equal(h.gate.admits(ALICE, SSH), true);
      assert.deepEqual(
        h.daemon.grants().map((g) => [g.door, g.source, g.endpoints]),
        [['fw', ALICE, [SSH]]],
      );

      h.frames.inject(udpFrame({ src: ALICE }, SPA_PORT, p));
      await h.settle();
      assert.equal(h.daemon.stats().fwknop_rejected_replayed, 1);
      assert.equal(h.daemon.stats().grants_extended, undefined);

      await h.advance(30_000);
      assert.equal(h.gate.admits(ALICE, SSH), false);
      assert.equal(h.daemon.stats().grants_expired, 1);
    } finally {
      await h.close();
    }
  });
});
