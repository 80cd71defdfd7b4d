/**
 * fwknop's DESTINATION holds for both ways a door reads its datagrams: a stanza limited to the
 * server's address on the "other" link accepts a packet sent to that address and not one sent to
 * the server's address on the client's link, for a socket door (destination from IP_PKTINFO,
 * native/udp-batch.c) as for a capture door (destination from the IP header). The packets come
 * from Debian's fwknop client, in the test's own namespaces.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { useScenario } from '../support/scenario.js';

describe('fwknop DESTINATION', () => {
  const key = randomBytes(32).toString('base64');
  const hmac = randomBytes(64).toString('base64');
  const stanza = (destination: string) => [
    `      - source: ANY`,
    `        destination: [${destination}]`,
    '        open_ports: [22/tcp]',
    `        key_base64: ${JSON.stringify(key)}`,
    `        hmac_key_base64: ${JSON.stringify(hmac)}`,
  ];
  const { tb, daemon } = useScenario({
    replayJournal: true,
    doors: ({ tb }) => [
      '  - name: by-socket',
      '    fwknop: { port: 62203, capture: socket }',
      '    open: [22/tcp]',
      '    duration: 4s',
      '    stanzas:',
      ...stanza(tb.server.otherSide.v4),
      '  - name: by-capture',
      '    fwknop: { port: 62204, capture: pcap }',
      '    open: [22/tcp]',
      '    duration: 4s',
      '    stanzas:',
      ...stanza(tb.server.otherSide.v4),
    ],
  });

  /** The real fwknop client in `ns`, for its own address `allow`, to `to`:`port`; the daemon's verdict. */
  async function send(ns: string, allow: string, to: string, port: number): Promise<Record<string, unknown>> {
    const before = daemon.lines.length;
    tb.run(ns, [
      'fwknop',
      '--no-rc-file',
      '--no-save-args',
      '-A',
      'tcp/22',
      '-a',
      allow,
      '-D',
      to,
      '-p',
      String(port),
      '--key-base64-rijndael',
      key,
      '--use-hmac',
      '--key-base64-hmac',
      hmac,
    ]);
    return daemon.waitFor((l) => daemon.lines.indexOf(l) >= before && l.event === 'fwknop', 5000, 'the verdict');
  }

  for (const [door, port] of [
    ['by-socket', 62203],
    ['by-capture', 62204],
  ] as const) {
    it(`${door}: a packet sent to another of the server's addresses matches no stanza; one sent to the DESTINATION is accepted`, async () => {
      const wrong = await send(tb.client.ns, tb.client.v4, tb.server.clientSide.v4, port);
      assert.equal(wrong.door, door, JSON.stringify(wrong));
      assert.equal(wrong.verdict, 'rejected', JSON.stringify(wrong));
      assert.equal(wrong.reason, 'fwknop-no-stanza', JSON.stringify(wrong));
      const right = await send(tb.other.ns, tb.other.v4, tb.server.otherSide.v4, port);
      assert.equal(right.door, door, JSON.stringify(right));
      assert.equal(right.verdict, 'accepted', JSON.stringify(right));
    });
  }
});
