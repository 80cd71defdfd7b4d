/**
 * Native SPA door binding (protocol v2) on the real kernel: two doors of one daemon share the server
 * key (every native SPA door does), and a packet the real client sealed for one door is refused by
 * the other with `spa-wrong-door`, its port staying filtered, even when the other door knows the
 * client. The same client bound to the right door opens it.
 * Also `require_address: true`: an unbound request is refused (`spa-address-required`) and the port
 * stays filtered; one bound with --allow-ip, or with --resolve-url to a resolver on the client's
 * loopback, opens for that address.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { KNOCKGATE, probe } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

describe("native SPA: doors sharing a server key do not accept each other's packets", () => {
  const { tb, daemon, cred } = useScenario({
    banner: [22, 2222],
    serverKey: true,
    // alice's credential names door "ssh", but the operator lists her under door "web" (and bob the
    // other way round): what a packet captured at one door and sent to another amounts to.
    clients: {
      alice: ['--door', 'ssh', '--port', '62201'],
      bob: ['--door', 'web', '--mode', 'psk', '--port', '62202'],
      carol: ['--door', 'web', '--port', '62201'],
    },
    files: ({ cred }) => ({
      'alice-web.yaml': readFileSync(cred('alice'), 'utf8').replace(/^door_id: .*$/m, 'door_id: "web"'),
    }),
    replayJournal: true,
    doors: ({ clientEntry }) => [
      '  - name: ssh',
      '    spa: { port: 62202 }',
      '    open: [22/tcp]',
      '    duration: 30s',
      '    clients:',
      ...clientEntry('bob'),
      '  - name: web',
      '    spa: { port: 62201 }',
      '    open: [2222/tcp]',
      '    duration: 30s',
      '    clients:',
      ...clientEntry('alice'),
      ...clientEntry('carol', ['require_address: true']),
    ],
  });
  const knock = (who: string, port: number, extra: string[] = []): void => {
    tb.run(tb.client.ns, [
      process.execPath,
      KNOCKGATE,
      'knock',
      tb.server.clientSide.v4,
      '-c',
      cred(who),
      '--spa-port',
      String(port),
      ...extra,
    ]);
  };

  it('a packet sealed for door "ssh" is refused at door "web" (spa-wrong-door) and the reverse; nothing opens', async () => {
    knock('alice', 62201);
    const a = await daemon.waitFor(
      (l) => l.event === 'spa' && l.door === 'web',
      5000,
      "web's verdict on alice's ssh packet",
    );
    assert.equal(a.verdict, 'rejected');
    assert.equal(a.reason, 'spa-wrong-door');
    knock('bob', 62202);
    const b = await daemon.waitFor(
      (l) => l.event === 'spa' && l.door === 'ssh',
      5000,
      "ssh's verdict on bob's web packet",
    );
    assert.equal(b.verdict, 'rejected');
    assert.equal(b.reason, 'spa-wrong-door');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 2222).outcome, 'timeout');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout');
    assert.equal(daemon.lines.filter((l) => l.event === 'grant').length, 0);
  });

  it('the same client bound to the right door opens it', async () => {
    knock('alice-web', 62201);
    const grant = await daemon.waitFor((l) => l.event === 'grant' && l.client === 'alice', 5000, 'the grant at web');
    assert.equal(grant.source, tb.client.v4);
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 2222).outcome, 'open');
  });

  it('require_address: an unbound request is refused (spa-address-required), the port stays filtered; --allow-ip and --resolve-url open for that address', async () => {
    knock('carol', 62201);
    const refused = await daemon.waitFor(
      (l) => l.event === 'spa' && l.client === 'carol',
      5000,
      "the verdict on carol's unbound request",
    );
    assert.equal(refused.verdict, 'rejected');
    assert.equal(refused.reason, 'spa-address-required');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 2222).outcome, 'timeout');
    assert.equal(daemon.lines.filter((l) => l.event === 'grant' && l.client === 'carol').length, 0);

    knock('carol', 62201, ['--allow-ip', tb.client.v4]);
    const g1 = await daemon.waitFor(
      (l) => l.event === 'grant' && l.client === 'carol',
      5000,
      'the grant for the bound request',
    );
    assert.equal(g1.source, tb.client.v4);

    // A resolver on the client's loopback answers with the client's address, as an Internet one would.
    const resolver = tb.start(tb.client.ns, [
      process.execPath,
      '-e',
      `require('http').createServer((q, r) => r.end(${JSON.stringify(`${tb.client.v4}\n`)})).listen(18080, '127.0.0.1', () => console.log('ready'))`,
    ]);
    let out = '';
    resolver.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 250 && !out.includes('ready'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(out.includes('ready'), 'the resolver started');
    const before = daemon.lines.length;
    knock('carol', 62201, ['--resolve-url', 'http://127.0.0.1:18080/ip']);
    const g2 = await daemon.waitFor(
      (l) => daemon.lines.indexOf(l) >= before && l.event === 'grant' && l.client === 'carol',
      5000,
      'the grant for the resolved request',
    );
    assert.equal(g2.source, tb.client.v4);
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 2222).outcome, 'open');
    assert.equal(
      probe(tb, tb.other.ns, tb.server.otherSide.v4, 2222).outcome,
      'timeout',
      'bound to the client, not to the bystander',
    );
  });
});
