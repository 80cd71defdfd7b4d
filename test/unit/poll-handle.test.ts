/**
 * Covers the handle checks of native/poll-handle.h, shared by the two receive bindings
 * (pcap-capture.c, udp-batch.c): a value that is not an open handle of that binding is refused
 * with an error, never used; a UDP handle handed to the pcap binding included (before the type
 * tag, pcap-capture.c would have taken it for its own struct). close() is idempotent, and the
 * counters stay readable after it.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { loadNativeAddon } from '../../src/sensors/native-addon.js';

interface RawUdp {
  open(port: number, bufferBytes: number, batch: Buffer, onBatch: () => void): object;
  stats(handle: unknown): { received: number; dropped: number };
  close(handle: unknown): void;
}
interface RawPcap {
  linkType(handle: unknown): number;
  stats(handle: unknown): unknown;
  close(handle: unknown): void;
}

/** A UDP port free right now (bound on [::] and released). */
async function freePort(): Promise<number> {
  const s = createSocket('udp6');
  await new Promise<void>((ok) => s.bind(0, '::', ok));
  const port = s.address().port;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

describe('handle checks of the receive bindings', () => {
  const udp = loadNativeAddon<RawUdp>('udp-batch.node', 'UDP binding');
  const pcap = loadNativeAddon<RawPcap>('pcap-capture.node', 'libpcap binding');

  it('values that are not handles are refused by both bindings', () => {
    for (const v of [{}, undefined, 7, 'handle', Buffer.alloc(64)]) {
      assert.throws(() => udp.stats(v), /not a receiver/);
      assert.throws(() => udp.close(v), /not a receiver/);
      assert.throws(() => pcap.stats(v), /not an open capture/);
      assert.throws(() => pcap.linkType(v), /not an open capture/);
      assert.throws(() => pcap.close(v), /not a capture/);
    }
  });

  it('a UDP handle is refused by the pcap binding, and stays usable; close is idempotent', async () => {
    const handle = udp.open(await freePort(), 65536, Buffer.alloc(1064), () => {});
    try {
      assert.throws(() => pcap.close(handle), /not a capture/);
      assert.throws(() => pcap.stats(handle), /not an open capture/);
      assert.deepEqual(udp.stats(handle), { received: 0, dropped: 0 });
    } finally {
      udp.close(handle);
      udp.close(handle);
    }
    assert.deepEqual(udp.stats(handle), { received: 0, dropped: 0 });
  });

  it('a batch Buffer smaller than one record of the longest datagram is refused', () => {
    assert.throws(
      () => udp.open(9, 65536, Buffer.alloc(1063), () => {}),
      /batch must be a Buffer of at least 1064 bytes/,
    );
  });
});
