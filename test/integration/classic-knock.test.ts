/**
 * Classic knock sequences end to end on the real kernel: the real knockgated (libpcap capture,
 * nftables gate) in a server namespace, clients in two other namespaces, probes that watch the wire
 * for RST and ICMP. What is asserted is what a user or a scanner would observe.
 */

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BUILD_ROOT, knock, probe, sleep } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const SEQUENCE = [5643, 234, 6543, 6679, 35546, 192, 14];
const SLOW_SEQUENCE = [7101, 7102, 7103];
const DURATION_S = 4;
const RECORDER = join(BUILD_ROOT, 'test', 'support', 'record-argv.js');
const SLOW_KNOCK = join(BUILD_ROOT, 'test', 'support', 'slow-knock.js');

describe('classic knock sequence, nftables gate, real kernel', () => {
  const cmd = (commandLog: string, what: string) =>
    JSON.stringify([
      process.execPath,
      RECORDER,
      commandLog,
      what,
      '{ip}',
      '{door}',
      '{family}',
      '{duration}',
      '{ports}',
    ]);
  const s = useScenario({
    banner: [22],
    interfaces: ({ tb }) => [tb.server.clientSide.ifname, tb.server.otherSide.ifname],
    settings: (s) => [
      'firewall: nftables',
      `pending_commands: ${JSON.stringify(s.path('pending-commands.json'))}`, // not the host's /var/lib
    ],
    doors: (s) => [
      '  - name: ssh',
      `    sequence: [${SEQUENCE.join(', ')}]`,
      '    sequence_timeout: 10s',
      '    open: [22/tcp]',
      `    duration: ${DURATION_S}s`,
      `    start_command: ${cmd(s.path('commands.jsonl'), 'start')}`,
      `    stop_command: ${cmd(s.path('commands.jsonl'), 'stop')}`,
      '  - name: slow',
      `    sequence: [${SLOW_SEQUENCE.join(', ')}]`,
      '    sequence_timeout: 15s',
      '    open: [22/tcp]',
      `    duration: ${DURATION_S}s`,
    ],
  });
  const { tb, daemon } = s;

  it('hides 22/tcp before any knock: no answer, no RST, no ICMP, from either host', () => {
    for (const [ns, addr] of [
      [tb.client.ns, tb.server.clientSide.v4],
      [tb.other.ns, tb.server.otherSide.v4],
      [tb.client.ns, tb.server.clientSide.v6],
    ] as const) {
      const r = probe(tb, ns, addr, 22);
      assert.equal(r.outcome, 'timeout', `${addr} from ${ns}`);
      assert.deepEqual(r.replies, []);
    }
  });

  it('control: an unprotected closed port answers with RST, and the probe sees it', () => {
    // Without this, "no RST seen" above could mean a blind probe rather than a silent port.
    const r = probe(tb, tb.client.ns, tb.server.clientSide.v4, 23);
    assert.equal(r.outcome, 'refused');
    assert.ok(
      r.replies.some((x) => x.startsWith('rst')),
      JSON.stringify(r.replies),
    );
  });

  it('hides the knock ports too: a scanner sees them filtered, not closed', () => {
    const r = probe(tb, tb.other.ns, tb.server.otherSide.v4, 234);
    assert.equal(r.outcome, 'timeout');
    assert.deepEqual(r.replies, []);
  });

  it('does not open for the right ports in the wrong order', async () => {
    const shuffled = [SEQUENCE[1], SEQUENCE[0], ...SEQUENCE.slice(2)] as number[];
    knock(tb, tb.client.ns, tb.server.clientSide.v4, shuffled);
    await daemon.waitFor((l) => l.event === 'knock' && l.reason === 'wrong-step', 5000, 'a wrong-step line');
    await sleep(300);
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout');
    assert.equal(daemon.lines.filter((l) => l.event === 'grant').length, 0);
  });

  it('opens 22/tcp for the knocking client alone after the 7-port knock', async () => {
    knock(tb, tb.client.ns, tb.server.clientSide.v4, SEQUENCE);
    const grant = await daemon.waitFor((l) => l.event === 'grant' && l.verdict === 'opened', 5000, 'the grant');
    assert.equal(grant.source, tb.client.v4);
    assert.equal(grant.door, 'ssh');
    const fromClient = probe(tb, tb.client.ns, tb.server.clientSide.v4, 22);
    assert.equal(fromClient.outcome, 'open');
    assert.match(fromClient.banner ?? '', /^SSH-2\.0-/);
    const fromOther = probe(tb, tb.other.ns, tb.server.otherSide.v4, 22);
    assert.equal(fromOther.outcome, 'timeout');
    assert.deepEqual(fromOther.replies, []);
    // The grant is the source's IPv4 address only: the same client over IPv6 is still refused.
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v6, 22).outcome, 'timeout');
  });

  it('never logs the knock ports (the sequence is a secret)', () => {
    const text = daemon.lines.map((l) => JSON.stringify(l)).join('\n');
    for (const port of SEQUENCE.filter((p) => p > 1000))
      assert.ok(!text.includes(String(port)), `port ${port} appears in the log`);
  });

  it('closes 22/tcp again when the grant runs out, and runs start and stop commands with the right argv', async () => {
    const granted = daemon.lines.find((l) => l.event === 'grant' && l.verdict === 'opened');
    assert.ok(granted);
    await daemon.waitFor((l) => l.event === 'grant-expired', (DURATION_S + 3) * 1000, 'grant expiry');
    await sleep(500);
    const r = probe(tb, tb.client.ns, tb.server.clientSide.v4, 22);
    assert.equal(r.outcome, 'timeout');
    assert.deepEqual(r.replies, []);
    await daemon.waitFor((l) => l.event === 'command' && l.command === 'stop', 5000, 'stop command result');
    assert.ok(existsSync(s.path('commands.jsonl')));
    const runs = readFileSync(s.path('commands.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
    assert.deepEqual(runs, [
      ['start', tb.client.v4, 'ssh', '4', String(DURATION_S), '22/tcp'],
      ['stop', tb.client.v4, 'ssh', '4', String(DURATION_S), '22/tcp'],
    ]);
  });

  it('opens for an IPv6 client, for its IPv6 address only', async () => {
    knock(tb, tb.client.ns, tb.server.clientSide.v6, SEQUENCE);
    const grant = await daemon.waitFor((l) => l.event === 'grant' && l.source === tb.client.v6, 5000, 'the IPv6 grant');
    assert.equal(grant.verdict, 'opened');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v6, 22).outcome, 'open');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout');
  });

  it('knocking again extends a grant instead of adding a second one', async () => {
    // A grant of its own first: the previous test's (4 s) may have run out on a slow machine
    // (the sanitizer build), and the knock below would then open rather than extend.
    const grantsBefore = daemon.lines.filter((l) => l.event === 'grant' && l.source === tb.client.v6).length;
    knock(tb, tb.client.ns, tb.server.clientSide.v6, SEQUENCE);
    await daemon.waitFor(
      () => daemon.lines.filter((l) => l.event === 'grant' && l.source === tb.client.v6).length > grantsBefore,
      5000,
      'a live grant to extend',
    );
    knock(tb, tb.client.ns, tb.server.clientSide.v6, SEQUENCE);
    await daemon.waitFor(
      (l) => l.event === 'grant' && l.source === tb.client.v6 && l.verdict === 'extended',
      5000,
      'the extension',
    );
    const listing = tb.run(tb.server.ns, ['nft', '-j', 'list', 'set', 'inet', 'knockgate', 'grants6']);
    const elems = (JSON.parse(listing) as { nftables: { set?: { elem?: unknown[] } }[] }).nftables.flatMap(
      (i) => i.set?.elem ?? [],
    );
    assert.equal(elems.length, 1);
  });

  it("opens for Debian's knock(1) client", async () => {
    tb.run(tb.other.ns, ['knock', tb.server.otherSide.v4, ...SEQUENCE.map(String)]);
    await daemon.waitFor((l) => l.event === 'grant' && l.source === tb.other.v4, 5000, 'the grant for knock(1)');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'open');
  });

  it('a slow knock whose earlier SYNs are still being resent by the kernel opens (knockd resets it)', async () => {
    // Steps 2.2 s apart from sockets that are never abandoned: while step 2 is the last step taken,
    // the kernel resends step 1's SYN (at ~3 s). That resend must not count as a wrong step.
    const before = daemon.lines.filter((l) => l.event === 'grant' && l.source === tb.client.v4).length;
    const retransmissionsBefore = daemon.lines.filter(
      (l) => l.reason === 'retransmission' && l.source === tb.client.v4,
    ).length;
    tb.run(tb.client.ns, [process.execPath, SLOW_KNOCK, tb.server.clientSide.v4, '2200', ...SLOW_SEQUENCE.map(String)]);
    await daemon.waitFor(
      (l) => l.event === 'grant' && l.door === 'slow' && l.source === tb.client.v4,
      5000,
      'the grant for the slow knock',
    );
    assert.ok(
      daemon.lines.filter((l) => l.reason === 'retransmission' && l.source === tb.client.v4).length >
        retransmissionsBefore,
      'the kernel resent at least one SYN',
    );
    assert.equal(daemon.lines.filter((l) => l.event === 'grant' && l.source === tb.client.v4).length, before + 1);
  });
});
