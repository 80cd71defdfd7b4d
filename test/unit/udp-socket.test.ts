/**
 * src/client/udp-socket.ts: the client's datagrams reach a socket on loopback whether the host is
 * an IP literal (answered without node:dns) or a name (looked up as node:dgram would), and a send
 * the kernel refuses rejects.
 */

import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { sendOneDatagram, udpSocket } from '../../src/client/udp-socket.js';

async function receiver(): Promise<{
  port: number;
  next: () => Promise<{ bytes: Buffer; from: string }>;
  close: () => void;
}> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return {
    port: s.address().port,
    next: () => new Promise((r) => s.once('message', (bytes, rinfo) => r({ bytes, from: rinfo.address }))),
    close: () => s.close(),
  };
}

describe('the client UDP socket', () => {
  it('sends to an IP literal and to a name', async () => {
    const r = await receiver();
    try {
      for (const host of ['127.0.0.1', 'localhost']) {
        const got = r.next();
        await sendOneDatagram(host, 4, r.port, Buffer.from(`to ${host}`), `${host} port ${r.port}/udp`);
        const { bytes, from } = await got;
        assert.equal(bytes.toString(), `to ${host}`);
        assert.equal(from, '127.0.0.1');
      }
    } finally {
      r.close();
    }
  });

  it('finds its local address towards a literal (connect goes through the same lookup)', async () => {
    const s = udpSocket(4);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.connect(9, '127.0.0.1', resolve);
    });
    assert.equal(s.address().address, '127.0.0.1');
    s.close();
  });

  it('an error sendFailure has no words for is passed on as it is', async () => {
    // 65,508 bytes is over what one UDP datagram over IPv4 can carry: the kernel says EMSGSIZE.
    // (The errors sendFailure words, ENETUNREACH and the rest, are the client-errors integration tests'.)
    await assert.rejects(sendOneDatagram('127.0.0.1', 4, 9, Buffer.alloc(65_508), '127.0.0.1 port 9/udp'), {
      code: 'EMSGSIZE',
    });
  });
});
