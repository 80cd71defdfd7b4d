/**
 * Covers the promise of src/sensors/udp.ts and src/sensors/pcap-binding.ts that close() is final:
 * once close() has returned, no callback sees another packet, even when close() is called from
 * inside the callback while a batch of many records is being delivered (native/js-batch.h hands
 * JavaScript a whole batch at once, so the JS loop itself must stop).
 *
 * A burst is sent to a real socket on loopback (127.0.0.1, a port the kernel picked for this run),
 * all in one tick so that it is queued in the kernel and read as one batch. Needs root for the
 * capture on `lo`.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { openUdpSource } from '../../src/sensors/udp.js';
import { openCapture } from '../../src/sensors/pcap-binding.js';

const BURST = 32;

/** A UDP port free right now on 127.0.0.1 (bound and released). */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((ok) => s.bind(0, '127.0.0.1', ok));
  const port = s.address().port;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

/** Sends BURST datagrams to 127.0.0.1:port in one tick; resolves when all were handed to the kernel. */
async function burst(sender: Socket, port: number): Promise<void> {
  const sent: Promise<void>[] = [];
  for (let i = 0; i < BURST; i++) {
    sent.push(
      new Promise<void>((ok, ko) =>
        sender.send(Buffer.from(`datagram ${i}`), port, '127.0.0.1', (err) => (err ? ko(err) : ok())),
      ),
    );
  }
  await Promise.all(sent);
}

describe('close() from inside the batch callback', () => {
  it('udp source: a datagram handler that closes the source sees no further datagram of the same batch', async () => {
    const port = await freePort();
    let seen = 0;
    let afterClose = 0;
    let closed = false;
    const sender = createSocket('udp4');
    try {
      const source = await openUdpSource(port, () => {
        if (closed) {
          afterClose++;
          return;
        }
        seen++;
        if (seen === 3) {
          source.close();
          closed = true;
        }
      });
      await burst(sender, port);
      for (let i = 0; i < 100 && !closed; i++) await sleep(10);
      await sleep(100);
      assert.equal(closed, true, 'the burst reached the source');
      assert.equal(seen, 3);
      assert.equal(afterClose, 0, 'datagrams delivered after close() returned');
    } finally {
      sender.close();
    }
  });

  it('pcap capture: a frame handler that closes the capture sees no further frame of the same batch', async () => {
    const port = await freePort();
    // The receiving socket keeps the port in use (no ICMP port-unreachable traffic of ours).
    const receiver = createSocket('udp4');
    await new Promise<void>((ok) => receiver.bind(port, '127.0.0.1', ok));
    const sender = createSocket('udp4');
    let seen = 0;
    let afterClose = 0;
    let closed = false;
    try {
      const capture = openCapture({
        device: 'lo',
        filter: `udp and dst host 127.0.0.1 and dst port ${port}`,
        snaplen: 256,
        bufferBytes: 1 << 20,
        promisc: false,
        batchBytes: 64 * 1024,
        onFrame: () => {
          if (closed) {
            afterClose++;
            return;
          }
          seen++;
          if (seen === 3) {
            capture.close();
            closed = true;
          }
        },
      });
      await burst(sender, port);
      for (let i = 0; i < 100 && !closed; i++) await sleep(10);
      await sleep(100);
      assert.equal(closed, true, 'the burst reached the capture');
      assert.equal(seen, 3);
      assert.equal(afterClose, 0, 'frames delivered after close() returned');
    } finally {
      sender.close();
      receiver.close();
    }
  });
});
