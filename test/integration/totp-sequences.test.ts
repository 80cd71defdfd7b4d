/**
 * Time-based knock sequences (`sequence: { totp: FILE, ... }`) on the real kernel, in network
 * namespaces, with the real knockgated and the real client: `knockgate add-client --totp` makes
 * the credentials from the door's secret file, `knockgate knock --totp` sends the current
 * sequence over IPv4 and over IPv6, and it opens for the knocking source only; a replay of the
 * very steps that were knocked, from another source or from the same one once its grant has run
 * out, opens nothing (the sequence is burnt); a sequence from two periods ago opens nothing while
 * one of the next period does (one period of skew); after the period turns, the new next period's
 * sequence opens (the capture filter and the hidden ports followed the clock). The same, in short,
 * through the iptables gate with UDP steps.
 *
 * Two doors share one secret (their names make their sequences differ): `ssh` (10 s periods) for
 * the IPv4 tests and `ssh6` (5 s, the shortest allowed) for IPv6 and the turn, so that the tests do
 * not burn each other's periods; only the last test waits for a period to turn. The replay tests
 * check that the replay was sent while the sequence would still have been accepted had it not
 * been burnt (else they could pass only because its window had passed).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatEndpoint } from '../../src/core/endpoint.js';
import { acceptedCounters, totpCounter, totpSequence, type TotpParameters } from '../../src/core/totp-sequence.js';
import { totpSecretText } from '../../src/stores/totp-key-files.js';
import { KNOCKGATE, knock, knockgateCli, probe, sleep } from '../support/daemon-process.js';
import { useScenario } from '../support/scenario.js';

const SECRET = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
const SSH: TotpParameters = { door: 'ssh', steps: 3, periodMs: 10_000, low: 20_000, high: 20_999, protocol: 'tcp' };
const SSH6: TotpParameters = { door: 'ssh6', steps: 3, periodMs: 5_000, low: 21_000, high: 21_999, protocol: 'mixed' };
const seqOf = (counter: number, p = SSH): string[] => totpSequence(SECRET, p, counter).map(formatEndpoint);
const now = (p = SSH): number => totpCounter(Date.now(), p.periodMs);

describe('time-based knock sequences', () => {
  const s = useScenario({
    banner: [22],
    files: () => ({ 'doors.totp': totpSecretText(SECRET) }),
    settings: (sc) => [`pending_commands: ${JSON.stringify(sc.path('pending-commands.json'))}`],
    doors: () => [
      '  - name: ssh',
      '    sequence: { totp: doors.totp, steps: 3, period: 10s, ports: 20000-20999 }',
      '    open: [22/tcp]',
      '    duration: 2s',
      '  - name: ssh6',
      '    sequence: { totp: doors.totp, steps: 3, period: 5s, ports: 21000-21999, protocol: mixed }',
      '    open: [22/tcp]',
      '    duration: 2s',
    ],
  });
  const { tb, daemon } = s;
  /** The steps `knockgate knock --totp --verbose` reports it sent. */
  const knockTotp = (ns: string, host: string, cred: string): string[] => {
    const out = tb.run(ns, [process.execPath, KNOCKGATE, 'knock', '--verbose', '--totp', cred, host]);
    return [...out.matchAll(/^knocked \S+ (\d+\/(?:tcp|udp))$/gm)].map((m) => m[1] as string);
  };
  const grantsFor = (source: string): number =>
    daemon.lines.filter((l) => l.event === 'grant' && l.source === source).length;
  /** Fails unless counter `c` of door `p` is still accepted now (so a refusal was the burn's doing). */
  const stillAccepted = (c: number, p = SSH): void =>
    assert.ok(
      acceptedCounters(Date.now(), p.periodMs).includes(c),
      'too slow: the window had passed before the replay',
    );
  let sent: string[] = [];
  let sentCounter = 0;

  it('add-client --totp makes credentials from the door secret', () => {
    for (const door of ['ssh', 'ssh6'])
      knockgateCli([
        'add-client',
        `c-${door}`,
        '--totp',
        '--door',
        door,
        '-c',
        s.configFile,
        '-o',
        s.path(`${door}.cred`),
      ]);
  });

  it('IPv4: knock --totp opens for the knocking source only', async () => {
    const host = tb.server.clientSide.v4;
    assert.equal(probe(tb, tb.client.ns, host, 22).outcome, 'timeout', 'filtered before');
    sent = knockTotp(tb.client.ns, host, s.path('ssh.cred'));
    assert.equal(sent.length, 3);
    await daemon.waitFor((l) => l.event === 'grant' && l.source === tb.client.v4, 5000, 'the grant');
    assert.equal(probe(tb, tb.client.ns, host, 22).outcome, 'open');
    const c = [now(), now() - 1].find((k) => seqOf(k).join() === sent.join());
    assert.ok(c !== undefined, 'the current sequence was sent');
    sentCounter = c;
  });

  it('a replay of the knocked steps opens nothing: from another source, nor from the same one later', async () => {
    knock(tb, tb.other.ns, tb.server.otherSide.v4, sent);
    stillAccepted(sentCounter);
    await sleep(400);
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');
    await daemon.waitFor((l) => l.event === 'grant-expired' && l.source === tb.client.v4, 5000, 'the grant to end');
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout', 'closed again');
    knock(tb, tb.client.ns, tb.server.clientSide.v4, sent);
    stillAccepted(sentCounter);
    await sleep(400);
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout');
    assert.equal(grantsFor(tb.client.v4), 1);
    assert.equal(grantsFor(tb.other.v4), 0);
  });

  it('a sequence from two periods ago opens nothing; one of the next period opens', async () => {
    const c = now();
    knock(tb, tb.other.ns, tb.server.otherSide.v4, seqOf(c - 2));
    await sleep(400);
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout');
    assert.equal(grantsFor(tb.other.v4), 0);
    knock(tb, tb.other.ns, tb.server.otherSide.v4, seqOf(c + 1));
    await daemon.waitFor((l) => l.event === 'grant' && l.source === tb.other.v4, 5000, 'the grant of the next period');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'open');
  });

  it('IPv6: knock --totp opens for the knocking source only; a replay from another source does not', async () => {
    const host = tb.server.clientSide.v6;
    assert.equal(probe(tb, tb.client.ns, host, 22).outcome, 'timeout', 'filtered before');
    const steps = knockTotp(tb.client.ns, host, s.path('ssh6.cred'));
    const c = [now(SSH6), now(SSH6) - 1].find((k) => seqOf(k, SSH6).join() === steps.join()) as number;
    await daemon.waitFor((l) => l.event === 'grant' && l.source === tb.client.v6, 5000, 'the IPv6 grant');
    assert.equal(probe(tb, tb.client.ns, host, 22).outcome, 'open');
    knock(tb, tb.other.ns, tb.server.otherSide.v6, steps);
    stillAccepted(c, SSH6);
    await sleep(400);
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v6, 22).outcome, 'timeout');
    assert.equal(grantsFor(tb.other.v6), 0);
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v4, 22).outcome, 'timeout', 'not for its IPv4 address');
  });

  it('after the period turns, the new next period opens (capture filter and hidden ports followed)', async () => {
    const c = now(SSH6);
    await sleep((c + 1) * SSH6.periodMs - Date.now() + 500); // the turn, then the layout step
    const from = daemon.lines.length;
    knock(tb, tb.client.ns, tb.server.clientSide.v6, seqOf(c + 2, SSH6));
    await daemon.waitFor(
      (l) => l.event === 'grant' && l.source === tb.client.v6 && daemon.lines.indexOf(l) >= from,
      5000,
      'the grant of the period after the turn',
    );
    assert.equal(probe(tb, tb.client.ns, tb.server.clientSide.v6, 22).outcome, 'open');
  });
});

describe('time-based knock sequences through the iptables gate', () => {
  const P: TotpParameters = { door: 'ssh', steps: 3, periodMs: 5_000, low: 22_000, high: 22_999, protocol: 'udp' };
  const s = useScenario({
    banner: [22],
    files: () => ({ 'doors.totp': totpSecretText(SECRET) }),
    settings: (sc) => ['firewall: iptables', `pending_commands: ${JSON.stringify(sc.path('pending-commands.json'))}`],
    doors: () => [
      '  - name: ssh',
      '    sequence: { totp: doors.totp, steps: 3, period: 5s, ports: 22000-22999, protocol: udp }',
      '    open: [22/tcp]',
      '    duration: 30s',
    ],
  });
  const { tb, daemon } = s;

  it('opens once per sequence, and after the period turns the new next period opens', async () => {
    const host = tb.server.clientSide.v4;
    assert.equal(probe(tb, tb.client.ns, host, 22).outcome, 'timeout', 'filtered before');
    const c = totpCounter(Date.now(), P.periodMs);
    knock(tb, tb.client.ns, host, seqOf(c, P));
    await daemon.waitFor((l) => l.event === 'grant' && l.source === tb.client.v4, 5000, 'the grant');
    assert.equal(probe(tb, tb.client.ns, host, 22).outcome, 'open');
    knock(tb, tb.other.ns, tb.server.otherSide.v4, seqOf(c, P));
    assert.ok(acceptedCounters(Date.now(), P.periodMs).includes(c), 'too slow: the window had passed');
    await sleep(400);
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'timeout', 'the replay');
    await sleep((totpCounter(Date.now(), P.periodMs) + 1) * P.periodMs - Date.now() + 500);
    knock(tb, tb.other.ns, tb.server.otherSide.v4, seqOf(totpCounter(Date.now(), P.periodMs) + 1, P));
    await daemon.waitFor((l) => l.event === 'grant' && l.source === tb.other.v4, 5000, 'the grant after the turn');
    assert.equal(probe(tb, tb.other.ns, tb.server.otherSide.v4, 22).outcome, 'open');
  });
});
