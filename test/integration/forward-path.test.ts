/**
 * The forward path on the real kernel: the server namespace routes between the client and the
 * "other" namespace, which stands for a LAN host or a container behind it. Three doors:
 *   lan-web     hook: forward, guards 8080/tcp of the inner host (a router in front of a LAN);
 *   published   hook: forward, guards 8081/tcp, which a Docker-style DNAT rule in a table of its
 *               own (not knockgate's) sends on to the inner host's 8080: guarded by the number
 *               clients send to, before that DNAT;
 *   inner-ssh   nat: the server's own 2222/tcp forwarded to the inner host's 8022 for the grant's
 *               lifetime, with masquerade (the inner host has no route back for it).
 * What is asserted is what a client or a scanner sees: filtered before (no RST, no ICMP), open for
 * the knocking source after, filtered again once the grant runs out; a daemon restarted mid-grant
 * keeps it; IPv6 as well as IPv4.
 */

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { spawnSync } from 'node:child_process';
import { BANNER_SERVER, KNOCKGATED, knock, probe, sleep } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const DURATION_S = 4;
const WEB = [7201, 7202, 7203];
const PUBLISHED = [7211, 7212, 7213];
const NAT = [7221, 7222, 7223];

describe('forward path and port-forwards, nftables gate, real kernel', () => {
  const s = useScenario({
    start: false,
    interfaces: ({ tb }) => [tb.server.clientSide.ifname],
    settings: (s) => ['firewall: nftables', `pending_commands: ${JSON.stringify(s.path('pending-commands.json'))}`],
    doors: ({ tb }) => [
      '  - name: lan-web',
      `    sequence: [${WEB.join(', ')}]`,
      '    open: [8080/tcp]',
      '    hook: forward',
      `    duration: ${DURATION_S}s`,
      '  - name: published',
      `    sequence: [${PUBLISHED.join(', ')}]`,
      '    open: [8081/tcp]',
      '    hook: forward',
      `    duration: ${DURATION_S}s`,
      '  - name: inner-ssh',
      `    sequence: [${NAT.join(', ')}]`,
      '    open: [2222/tcp]',
      `    nat: { to: ${tb.other.v4}, port: 8022, masquerade: true }`,
      `    duration: ${DURATION_S}s`,
    ],
  });
  const { tb } = s;
  const srv = (): string => tb.server.clientSide.v4;

  before(async () => {
    // A new namespace forwards nothing: --check says so, naming the sysctl.
    const check = spawnSync(
      'ip',
      ['netns', 'exec', tb.server.ns, process.execPath, KNOCKGATED, '-c', s.configFile, '--check'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stderr, /warning: net\.ipv4\.ip_forward is 0: .*doors "lan-web", "published", "inner-ssh"/);
    tb.run(tb.server.ns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
    // The client reaches the inner network through the server; the inner host answers the
    // client's own address through it too (routed doors); the port-forward needs no such route.
    tb.run(tb.client.ns, ['ip', 'route', 'add', `${tb.other.v4.replace(/\.\d+$/, '.0')}/24`, 'via', srv()]);
    tb.run(tb.client.ns, [
      'ip',
      '-6',
      'route',
      'add',
      `${tb.other.v6.replace(/::2$/, '::')}/64`,
      'via',
      tb.server.clientSide.v6,
    ]);
    tb.run(tb.other.ns, ['ip', 'route', 'add', `${tb.client.v4}/32`, 'via', tb.server.otherSide.v4]);
    tb.run(tb.other.ns, ['ip', '-6', 'route', 'add', `${tb.client.v6}/128`, 'via', tb.server.otherSide.v6]);
    // What Docker does for `-p 8081:8080`, in a table of its own.
    tb.run(
      tb.server.ns,
      ['nft', '-f', '-'],
      `table ip published {\n chain pre {\n type nat hook prerouting priority dstnat; policy accept;\n tcp dport 8081 dnat to ${tb.other.v4}:8080\n }\n}\n`,
    );
    const banner = tb.start(tb.other.ns, [process.execPath, BANNER_SERVER, '8080', '8022']);
    let heard = '';
    banner.stdout?.on('data', (d: Buffer) => {
      heard += d.toString();
    });
    for (let i = 0; i < 100 && (heard.match(/listening/g) ?? []).length < 2; i++) await sleep(20);
    // Controls: without knockgate, each path is open (so "timeout" below means knockgate's drop).
    assert.equal(probe(tb, tb.client.ns, tb.other.v4, 8080).outcome, 'open');
    assert.equal(probe(tb, tb.client.ns, srv(), 8081).outcome, 'open');
    await s.start();
  });

  const filtered = (host: string, port: number): void => {
    const r = probe(tb, tb.client.ns, host, port);
    assert.equal(r.outcome, 'timeout', `${host}:${port}`);
    assert.deepEqual(r.replies, []);
  };
  const grantFor = (door: string, source: string) =>
    s.daemon.waitFor((l) => l.event === 'grant' && l.door === door && l.source === source, 5000, `${door} grant`);

  it('hides each guarded path before any knock: no answer, no RST, no ICMP', () => {
    filtered(tb.other.v4, 8080);
    filtered(tb.other.v6, 8080);
    filtered(srv(), 8081);
    filtered(srv(), 2222);
  });

  it("hook: forward opens the inner host's port for the knocking source, over IPv4 and then IPv6", async () => {
    knock(tb, tb.client.ns, srv(), WEB);
    await grantFor('lan-web', tb.client.v4);
    const r = probe(tb, tb.client.ns, tb.other.v4, 8080);
    assert.equal(r.outcome, 'open');
    assert.match(r.banner ?? '', /^SSH-2\.0-/);
    // The grant is the IPv4 source's: the same client over IPv6 is still filtered.
    filtered(tb.other.v6, 8080);
    knock(tb, tb.client.ns, tb.server.clientSide.v6, WEB);
    await grantFor('lan-web', tb.client.v6);
    assert.equal(probe(tb, tb.client.ns, tb.other.v6, 8080).outcome, 'open');
  });

  it('hook: forward guards a published port by the number clients use, before its DNAT', async () => {
    filtered(srv(), 8081);
    knock(tb, tb.client.ns, srv(), PUBLISHED);
    await grantFor('published', tb.client.v4);
    const r = probe(tb, tb.client.ns, srv(), 8081);
    assert.equal(r.outcome, 'open');
    assert.match(r.banner ?? '', /^SSH-2\.0-/);
  });

  it("nat: forwards the server's 2222 to the inner host for the grant, and survives a restart mid-grant", async () => {
    knock(tb, tb.client.ns, srv(), NAT);
    await grantFor('inner-ssh', tb.client.v4);
    const r = probe(tb, tb.client.ns, srv(), 2222);
    assert.equal(r.outcome, 'open');
    assert.match(r.banner ?? '', /^SSH-2\.0-/);
    const restarted = await s.restart('SIGTERM');
    const adopted = restarted.lines.find((l) => l.event === 'ready');
    assert.ok(adopted, 'ready after the restart');
    assert.equal(probe(tb, tb.client.ns, srv(), 2222).outcome, 'open');
  });

  it('closes every path again when the grants run out', async () => {
    await sleep((DURATION_S + 1.5) * 1000);
    filtered(tb.other.v4, 8080);
    filtered(tb.other.v6, 8080);
    filtered(srv(), 8081);
    filtered(srv(), 2222);
  });
});
