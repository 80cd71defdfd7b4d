/**
 * fwknop's FORCE_NAT, from an access.conf used unchanged, with Debian's fwknop client: two stanzas
 * for any source, told apart by their keys. A packet for the first (FORCE_NAT to the inner host's
 * 8022, FORCE_MASQUERADE Y) forwards the server's 22/tcp to the inner host for its source alone;
 * a packet for the second opens the server's own 22/tcp. Both inner and own services greet with
 * their own banner, so the probe says which one it reached. Grants run out as usual.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { BANNER_SERVER, probe, sleep } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const DURATION_S = 4;

describe('fwknop FORCE_NAT: one stanza forwards to an inner host, another opens this host', () => {
  const keys = {
    inner: { key: randomBytes(32).toString('base64'), hmac: randomBytes(64).toString('base64') },
    own: { key: randomBytes(32).toString('base64'), hmac: randomBytes(64).toString('base64') },
  };
  const s = useScenario({
    start: false,
    banner: [22],
    replayJournal: true,
    files: ({ tb }) => ({
      'access.conf': [
        'SOURCE ANY',
        `KEY_BASE64 ${keys.inner.key}`,
        `HMAC_KEY_BASE64 ${keys.inner.hmac}`,
        'OPEN_PORTS tcp/22',
        `FW_ACCESS_TIMEOUT ${DURATION_S}`,
        `FORCE_NAT ${tb.other.v4} 8022`,
        'FORCE_MASQUERADE Y',
        '',
        'SOURCE ANY',
        `KEY_BASE64 ${keys.own.key}`,
        `HMAC_KEY_BASE64 ${keys.own.hmac}`,
        'OPEN_PORTS tcp/22',
        `FW_ACCESS_TIMEOUT ${DURATION_S}`,
        '',
      ].join('\n'),
    }),
    doors: () => [
      '  - name: fwknop',
      '    fwknop: { port: 62201, capture: socket }',
      '    access_conf: access.conf',
      '    open: [22/tcp]',
      `    duration: ${DURATION_S}s`,
    ],
  });
  const { tb } = s;

  before(async () => {
    tb.run(tb.server.ns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    const inner = tb.start(tb.other.ns, [process.execPath, BANNER_SERVER, '--banner', 'SSH-2.0-inner', '8022']);
    let heard = '';
    inner.stdout?.on('data', (d: Buffer) => {
      heard += d.toString();
    });
    for (let i = 0; i < 100 && !heard.includes('listening'); i++) await sleep(20);
    await s.start();
  });

  const send = (ns: string, allow: string, to: string, k: { key: string; hmac: string }): void => {
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
      '62201',
      '--key-base64-rijndael',
      k.key,
      '--use-hmac',
      '--key-base64-hmac',
      k.hmac,
    ]);
  };
  const grantFor = (source: string) =>
    s.daemon.waitFor((l) => l.event === 'grant' && l.source === source, 5000, `a grant for ${source}`);

  it('22/tcp is filtered for everyone before a packet', () => {
    for (const [ns, host] of [
      [tb.client.ns, tb.server.clientSide.v4],
      [tb.other.ns, tb.server.otherSide.v4],
    ] as const) {
      const r = probe(tb, ns, host, 22);
      assert.equal(r.outcome, 'timeout', `${host} from ${ns}`);
      assert.deepEqual(r.replies, []);
    }
  });

  it("the FORCE_NAT stanza's packet forwards this host's 22/tcp to the inner host, for that source only", async () => {
    send(tb.client.ns, tb.client.v4, tb.server.clientSide.v4, keys.inner);
    await grantFor(tb.client.v4);
    const r = probe(tb, tb.client.ns, tb.server.clientSide.v4, 22);
    assert.equal(r.outcome, 'open');
    assert.match(r.banner ?? '', /^SSH-2\.0-inner/);
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');
  });

  it("the other stanza's packet opens this host's own 22/tcp for its source, while the first stays forwarded", async () => {
    send(tb.other.ns, tb.other.v4, tb.server.otherSide.v4, keys.own);
    await grantFor(tb.other.v4);
    const own = probe(tb, tb.other.ns, tb.server.otherSide.v4, 22);
    assert.equal(own.outcome, 'open');
    assert.match(own.banner ?? '', /^SSH-2\.0-knockgate-standin/);
    assert.match(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).banner ?? '', /^SSH-2\.0-inner/);
  });

  it('both close again when their grants run out', async () => {
    await sleep((DURATION_S + 1.5) * 1000);
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');
  });
});
