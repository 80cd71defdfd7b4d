/**
 * Time-based knock sequences in the daemon, in process (test/support/daemon-harness.ts: memory
 * capture and gate, a ManualClock the test moves): the sequence of the current period opens, and
 * those of the previous and the next (one period of skew); one from two periods away does not; a
 * knocked sequence is burnt, so a replay from the same or another source opens nothing, also after
 * a restart; a burn that cannot be recorded grants nothing; the period turns on the clock and the
 * hidden knock ports follow the window; IPv6 sources. Expected sequences come from
 * core/totp-sequence.ts, whose output is checked against independent vectors (totp-sequence.test.ts).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoint } from '../../src/core/endpoint.js';
import { formatEndpoint } from '../../src/core/endpoint.js';
import { acceptedSteps, totpCounter, totpSequence, type TotpParameters } from '../../src/core/totp-sequence.js';
import { MemoryBurntCounters } from '../../src/ports/totp-burnt.js';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load.js';
import type { KnockgateError } from '../../src/core/errors.js';
import { daemonHarness, T0_UNIX_MS } from '../support/daemon-harness.js';
import { tcpFrame } from '../support/frames.js';

const SSH: Endpoint = { proto: 'tcp', port: 22 };
const ALICE = '198.18.0.2';
const BOB = '198.18.0.3';
const CAROL6 = '2001:db8:1::2';
const PERIOD_MS = 10_000;
const SECRET = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
const PARAMS: TotpParameters = {
  door: 'ssh',
  steps: 3,
  periodMs: PERIOD_MS,
  low: 20_000,
  high: 20_999,
  protocol: 'tcp',
};
const C0 = totpCounter(T0_UNIX_MS, PERIOD_MS);
const seqOf = (counter: number): Endpoint[] => totpSequence(SECRET, PARAMS, counter);

const YAML = [
  'interfaces: [any]',
  'doors:',
  '  - name: ssh',
  '    sequence: { totp: ssh.totp, steps: 3, period: 10s, ports: 20000-20999 }',
  '    open: [22]',
  '    duration: 4s',
  '',
].join('\n');

type Harness = Awaited<ReturnType<typeof daemonHarness>>;

const harness = (burnt = new MemoryBurntCounters()) =>
  daemonHarness(YAML, { totpSecrets: new Map([[0, SECRET]]), totpBurnt: burnt });

async function knock(h: Harness, src: string, steps: readonly Endpoint[]): Promise<void> {
  for (const s of steps) h.frames.inject(tcpFrame({ src }, s.port));
  await h.settle();
}

const keys = (es: readonly Endpoint[]): string[] => es.map(formatEndpoint).sort();

describe('Daemon (in process): time-based knock sequences', () => {
  it("opens with the current period's sequence, for the knocking source only", async () => {
    const h = await harness();
    try {
      await h.daemon.start();
      await h.advance(3_000);
      assert.equal(h.gate.admits(ALICE, SSH), false);
      await knock(h, ALICE, seqOf(C0));
      assert.equal(h.gate.admits(ALICE, SSH), true);
      assert.equal(h.gate.admits(BOB, SSH), false);
      assert.deepEqual(
        h.events('totp-sequence-burnt').map((l) => [l.fields.door, l.fields.source, l.fields.skew]),
        [['ssh', ALICE, 0]],
      );
      assert.equal(h.events('door-ready')[0]?.fields.kind, 'time-based');
    } finally {
      await h.close();
    }
  });

  it('accepts one period of skew either way, not two', async () => {
    const h = await harness();
    try {
      await h.daemon.start();
      await h.advance(1_000);
      await knock(h, ALICE, seqOf(C0 - 1));
      await knock(h, BOB, seqOf(C0 + 1));
      await knock(h, '198.18.0.4', seqOf(C0 - 2));
      await knock(h, '198.18.0.5', seqOf(C0 + 2));
      assert.equal(h.gate.admits(ALICE, SSH), true, 'the previous period');
      assert.equal(h.gate.admits(BOB, SSH), true, 'the next period');
      assert.equal(h.gate.admits('198.18.0.4', SSH), false, 'two periods ago');
      assert.equal(h.gate.admits('198.18.0.5', SSH), false, 'two periods ahead');
      assert.deepEqual(
        h.events('totp-sequence-burnt').map((l) => l.fields.skew),
        [-1, 1],
      );
    } finally {
      await h.close();
    }
  });

  it('a knocked sequence is burnt: a replay from another source, or the same one later, opens nothing', async () => {
    const h = await harness();
    try {
      await h.daemon.start();
      await knock(h, ALICE, seqOf(C0));
      assert.equal(h.gate.admits(ALICE, SSH), true);
      await knock(h, BOB, seqOf(C0)); // an observer replays it at once
      assert.equal(h.gate.admits(BOB, SSH), false);
      await h.advance(5_000); // Alice's 4 s grant has run out; the sequence is still in its window
      assert.equal(h.gate.admits(ALICE, SSH), false);
      await knock(h, ALICE, seqOf(C0));
      await h.advance(PERIOD_MS); // the next period: C0 is now the previous one, still accepted if unused
      await knock(h, BOB, seqOf(C0));
      assert.equal(h.gate.admits(ALICE, SSH), false);
      assert.equal(h.gate.admits(BOB, SSH), false);
      assert.equal(h.daemon.stats().grants_opened, 1);
      // The next period's sequence still opens.
      await knock(h, BOB, seqOf(C0 + 1));
      assert.equal(h.gate.admits(BOB, SSH), true);
    } finally {
      await h.close();
    }
  });

  it('a burnt sequence stays burnt across a restart (the store outlives the daemon)', async () => {
    const burnt = new MemoryBurntCounters();
    const first = await harness(burnt);
    try {
      await first.daemon.start();
      await knock(first, ALICE, seqOf(C0));
      assert.equal(first.gate.admits(ALICE, SSH), true);
    } finally {
      await first.close();
    }
    const second = await harness(burnt);
    try {
      await second.daemon.start();
      await knock(second, BOB, seqOf(C0));
      assert.equal(second.gate.admits(BOB, SSH), false);
      await knock(second, BOB, seqOf(C0 + 1));
      assert.equal(second.gate.admits(BOB, SSH), true);
    } finally {
      await second.close();
    }
  });

  it('a burn that cannot be recorded grants nothing, and the sequence is not accepted again', async () => {
    const burnt = new MemoryBurntCounters();
    burnt.failWrites = true;
    const h = await harness(burnt);
    try {
      await h.daemon.start();
      await knock(h, ALICE, seqOf(C0));
      assert.equal(h.gate.admits(ALICE, SSH), false);
      assert.deepEqual(
        h.events('grant').map((l) => [l.fields.verdict, l.fields.reason]),
        [['refused', 'totp-sequence-not-burnt']],
      );
      burnt.failWrites = false;
      await knock(h, ALICE, seqOf(C0));
      assert.equal(h.gate.admits(ALICE, SSH), false);
    } finally {
      await h.close();
    }
  });

  it('the period turns on the clock: the window moves and the hidden knock ports follow it', async () => {
    const h = await harness();
    try {
      await h.daemon.start();
      const hidden = (): string[] => keys(h.gate.layout.hiddenPorts);
      assert.deepEqual(hidden(), keys(acceptedSteps(SECRET, PARAMS, T0_UNIX_MS)));
      const installs = h.gate.installs;
      await h.advance(PERIOD_MS);
      assert.deepEqual(hidden(), keys(acceptedSteps(SECRET, PARAMS, T0_UNIX_MS + PERIOD_MS)));
      assert.equal(h.gate.installs, installs + 1, 'one layout step per turn');
      assert.ok(
        h.frames.live().every((s) => seqOf(C0 + 2).every((e) => s.filter.includes(String(e.port)))),
        'the capture filter holds the new next period',
      );
      await knock(h, ALICE, seqOf(C0 - 1));
      assert.equal(h.gate.admits(ALICE, SSH), false, 'two periods ago now');
      await knock(h, ALICE, seqOf(C0 + 2));
      assert.equal(h.gate.admits(ALICE, SSH), true, 'the new next period');
    } finally {
      await h.close();
    }
  });

  it('a knock in progress when the period turns completes in its lane', async () => {
    const h = await harness();
    try {
      await h.daemon.start();
      await h.advance(PERIOD_MS - 1_000);
      const [a, b, c] = seqOf(C0) as [Endpoint, Endpoint, Endpoint];
      await knock(h, ALICE, [a, b]);
      await h.advance(2_000); // the period turns: C0 is the previous one now
      await knock(h, ALICE, [c]);
      assert.equal(h.gate.admits(ALICE, SSH), true);
    } finally {
      await h.close();
    }
  });

  it('a reload keeps what was burnt, and the periods go on turning', async () => {
    const burnt = new MemoryBurntCounters();
    const h = await daemonHarness(YAML, {
      totpSecrets: new Map([[0, SECRET]]),
      totpBurnt: burnt,
      reloadSource: async () => ({
        config: h.config,
        oneTimeSequences: new Map(),
        totpSecrets: new Map([[0, SECRET]]),
        serverKey: null,
      }),
    });
    try {
      await h.daemon.start();
      await knock(h, ALICE, seqOf(C0));
      await h.daemon.reloadFromSource();
      await knock(h, BOB, seqOf(C0));
      assert.equal(h.gate.admits(BOB, SSH), false, 'burnt before the reload, burnt after it');
      await h.advance(2 * PERIOD_MS);
      await knock(h, BOB, seqOf(C0 + 3));
      assert.equal(h.gate.admits(BOB, SSH), true, 'the reloaded doors turn with the clock');
    } finally {
      await h.close();
    }
  });

  it('a reload that brings the first time-based door is refused: its burnt-sequence store is opened at start', async () => {
    const classic = [
      'interfaces: [any]',
      'doors:',
      '  - name: web',
      '    sequence: [7001, 7002]',
      '    open: [443]',
      '',
    ];
    const h = await daemonHarness(classic.join('\n'), {
      totpBurnt: null,
      reloadSource: async () => ({
        config: parseConfigText(join(h.dir, 'knockgate.yaml'), YAML),
        oneTimeSequences: new Map(),
        totpSecrets: new Map([[0, SECRET]]),
        serverKey: null,
      }),
    });
    try {
      await h.daemon.start();
      await assert.rejects(
        h.daemon.reloadFromSource(),
        (err: KnockgateError) => err.code === 'KG_RELOAD_REFUSED' && /first time-based sequence door/.test(err.message),
      );
      assert.equal(h.daemon.config.doors[0]?.name, 'web');
    } finally {
      await h.close();
    }
  });

  it('IPv6: a v6 source opens for itself; its sequence is burnt for v4 sources too', async () => {
    const h = await harness();
    try {
      await h.daemon.start();
      await knock(h, CAROL6, seqOf(C0));
      assert.equal(h.gate.admits(CAROL6, SSH), true);
      assert.equal(h.gate.admits(ALICE, SSH), false);
      await knock(h, ALICE, seqOf(C0));
      await knock(h, '2001:db8:1::3', seqOf(C0));
      assert.equal(h.gate.admits(ALICE, SSH), false);
      assert.equal(h.gate.admits('2001:db8:1::3', SSH), false);
      // Progress is kept per v6 source: two interleaved knocks of the next period.
      const [a, b, c] = seqOf(C0 + 1) as [Endpoint, Endpoint, Endpoint];
      await knock(h, '2001:db8:1::4', [a, b]);
      await knock(h, '2001:db8:1::5', [a]);
      await knock(h, '2001:db8:1::4', [c]);
      assert.equal(h.gate.admits('2001:db8:1::4', SSH), true);
      assert.equal(h.gate.admits('2001:db8:1::5', SSH), false);
    } finally {
      await h.close();
    }
  });
});
