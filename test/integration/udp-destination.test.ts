/**
 * src/sensors/udp.ts with native/udp-batch.c reports, for each datagram, the address it was sent
 * to (IP_PKTINFO / IPV6_PKTINFO on the dual-stack socket), which fwknop's DESTINATION needs:
 * datagrams sent on loopback to 127.0.0.2, 127.0.0.1 and ::1 arrive with those destinations
 * (IPv4 ones as IPv4 text, not v4-mapped).
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { openUdpSource } from '../../src/sensors/udp.js';

async function freePort(): Promise<number> {
  const s = createSocket('udp6');
  await new Promise<void>((ok) => s.bind(0, '::', ok));
  const port = s.address().port;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

describe('udp source: the destination address of each datagram', () => {
  it('reports 127.0.0.2, 127.0.0.1 and ::1 for datagrams sent there', async () => {
    const port = await freePort();
    const seen: { source: string; destination: string | undefined; text: string }[] = [];
    const source = await openUdpSource(port, (payload, from, to) =>
      seen.push({ source: from, destination: to, text: payload.toString() }),
    );
    const v4 = createSocket('udp4');
    const v6 = createSocket('udp6');
    try {
      const send = (sock: typeof v4, to: string, text: string): Promise<void> =>
        new Promise((ok, ko) => sock.send(Buffer.from(text), port, to, (err) => (err ? ko(err) : ok())));
      await send(v4, '127.0.0.2', 'a');
      await send(v4, '127.0.0.1', 'b');
      await send(v6, '::1', 'c');
      for (let i = 0; i < 100 && seen.length < 3; i++) await sleep(10);
      assert.deepEqual(seen.map((s) => [s.text, s.destination]).sort(), [
        ['a', '127.0.0.2'],
        ['b', '127.0.0.1'],
        ['c', '::1'],
      ]);
    } finally {
      source.close();
      v4.close();
      v6.close();
    }
  });
});
