/**
 * Covers src/core/sequence.ts (SequenceTracker): every row of the theory-of-operation table at the
 * top of that file, the exact timeout, sweep(), TCP flag and protocol matching, doors sharing a
 * port, replaceSteps(), single-step doors, IPv6 sources, and the memory cap with its eviction
 * preference (stage-1 entries go first).
 * Properties: the tracker agrees event for event with a reference model of the table written here
 * (and every completion is backed by the full sequence sent in order within the timeout); with a
 * small cap it agrees with a model that includes eviction, and tracked never exceeds maxTracked.
 */

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SequenceTracker, type KnockEvent, type KnockPacket, type SequenceDoorSpec } from '../../src/core/sequence.js';
import { parseTcpFlags, tcpFlagsMatch, type TcpFlagCondition } from '../../src/core/tcp-flags.js';
import type { Endpoint, Protocol } from '../../src/core/endpoint.js';

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;
const ECE = 0x40;
const CWR = 0x80;

function flagsOf(text: string): TcpFlagCondition {
  const r = parseTcpFlags(text);
  if ('error' in r) throw new Error(r.error);
  return r;
}
const SYN_NOT_ACK = flagsOf('syn,!ack');

const tcpStep = (port: number): Endpoint => ({ proto: 'tcp', port });
const udpStep = (port: number): Endpoint => ({ proto: 'udp', port });

function door(
  name: string,
  ports: readonly (number | Endpoint)[] | null,
  timeoutMs = 10_000,
  tcpFlags = SYN_NOT_ACK,
): SequenceDoorSpec {
  return {
    name,
    steps: ports === null ? null : ports.map((p) => (typeof p === 'number' ? tcpStep(p) : p)),
    timeoutMs,
    tcpFlags,
  };
}

let nextSport = 30_000;
/** A fresh connection attempt (new source port) unless sport/seq are given. */
function syn(
  src: string,
  dport: number,
  o: { sport?: number; seq?: number; flags?: number; proto?: Protocol } = {},
): KnockPacket {
  const proto = o.proto ?? 'tcp';
  return {
    family: src.includes(':') ? 6 : 4,
    src,
    proto,
    sport: o.sport ?? nextSport++,
    dport,
    tcpFlags: proto === 'udp' ? 0 : (o.flags ?? SYN),
    tcpSeq: proto === 'udp' ? 0 : (o.seq ?? 1000),
  };
}
const udp = (src: string, dport: number, sport?: number): KnockPacket =>
  syn(src, dport, { proto: 'udp', ...(sport === undefined ? {} : { sport }) });

/** The single event of a one-door packet. */
function one(events: KnockEvent[]): KnockEvent {
  assert.equal(events.length, 1, JSON.stringify(events));
  return events[0] as KnockEvent;
}
const outcome = (events: KnockEvent[]): [string, number] => {
  const e = one(events);
  return [e.outcome, e.stage];
};

const SSH = [5643, 234, 6543, 6679, 35546, 192, 14];
const A = '198.51.100.1';
const B = '198.51.100.2';
const C = '203.0.113.3';

/** Sends all of `ports` from `src` as fresh SYNs at time `t`, returning the outcomes. */
function knock(t: SequenceTracker, src: string, ports: readonly number[], now = 0): [string, number][] {
  return ports.map((p) => outcome(t.observe(syn(src, p), now)));
}

describe('SequenceTracker: the theory-of-operation table, row by row', () => {
  it('any state | TCP whose flags fail tcp_flags -> flags-mismatch, state unchanged', () => {
    const t = new SequenceTracker([door('d', [1000, 2000, 3000])], 100);
    // IDLE
    assert.deepEqual(outcome(t.observe(syn(A, 1000, { flags: SYN | ACK }), 0)), ['flags-mismatch', 0]);
    assert.equal(t.progressOf(0, A, 0), 0);
    assert.equal(t.stats().tracked, 0);
    // AT(1)
    assert.deepEqual(outcome(t.observe(syn(A, 1000), 0)), ['progress', 1]);
    for (const flags of [SYN | ACK, RST, ACK, 0, FIN, RST | ACK]) {
      assert.deepEqual(outcome(t.observe(syn(A, 3000, { flags }), 1)), ['flags-mismatch', 1], `flags ${flags}`);
      assert.deepEqual(outcome(t.observe(syn(A, 2000, { flags }), 1)), ['flags-mismatch', 1], `flags ${flags}`);
    }
    assert.equal(t.progressOf(0, A, 1), 1);
    // Flags the condition does not name are ignored.
    assert.deepEqual(outcome(t.observe(syn(A, 2000, { flags: SYN | ECE | CWR | PSH }), 2)), ['progress', 2]);
    assert.deepEqual(outcome(t.observe(syn(A, 3000), 3)), ['complete', 3]);
  });

  it('AT(k) | now >= started + T -> IDLE, then the packet is re-read as from IDLE', () => {
    const t = new SequenceTracker([door('d', [1000, 2000, 3000], 1000)], 100);
    assert.deepEqual(knock(t, A, [1000, 2000], 0), [
      ['progress', 1],
      ['progress', 2],
    ]);
    // At the deadline, the next step is re-read from IDLE: not the first step.
    assert.deepEqual(outcome(t.observe(syn(A, 3000), 1000)), ['not-first-step', 0]);
    assert.equal(t.stats().timedOut, 1);
    assert.equal(t.stats().tracked, 0);
    // A first step after the deadline starts over.
    assert.deepEqual(knock(t, B, [1000], 5000), [['progress', 1]]);
    assert.deepEqual(outcome(t.observe(syn(B, 1000), 6000)), ['progress', 1]);
    assert.equal(t.stats().timedOut, 2);
    assert.deepEqual(knock(t, B, [2000, 3000], 6999), [
      ['progress', 2],
      ['complete', 3],
    ]);
  });

  it('AT(k) | same proto, source port, port and TCP seq as a step already taken -> retransmission, AT(k)', () => {
    const t = new SequenceTracker([door('d', [1000, 2000, 3000])], 100);
    const first = syn(A, 1000, { sport: 40000, seq: 77 });
    assert.deepEqual(outcome(t.observe(first, 0)), ['progress', 1]);
    assert.deepEqual(outcome(t.observe(first, 1)), ['retransmission', 1]);
    assert.deepEqual(outcome(t.observe(first, 2)), ['retransmission', 1]);
    const second = syn(A, 2000, { sport: 40001, seq: 5 });
    assert.deepEqual(outcome(t.observe(second, 3)), ['progress', 2]);
    assert.deepEqual(outcome(t.observe(second, 4)), ['retransmission', 2]);
    // A resend of an earlier step of this attempt (a client that does not abandon its SYNs, with
    // a delay of a second or more between steps) is still a retransmission, not a wrong step.
    assert.deepEqual(outcome(t.observe(first, 5)), ['retransmission', 2]);
    assert.deepEqual(outcome(t.observe(syn(A, 3000, { sport: 40002, seq: 9 }), 6)), ['complete', 3]);
  });

  it('retransmission needs all of proto, sport, dport and seq to match', () => {
    const mk = (): SequenceTracker => {
      const t = new SequenceTracker([door('d', [1000, 1000, 1000, 2000, udpStep(1000)])], 100);
      assert.deepEqual(outcome(t.observe(syn(A, 1000, { sport: 40000, seq: 77 }), 0)), ['progress', 1]);
      return t;
    };
    // Different seq, sport: a new attempt to the same port, here the next step.
    assert.deepEqual(outcome(mk().observe(syn(A, 1000, { sport: 40000, seq: 78 }), 1)), ['progress', 2]);
    assert.deepEqual(outcome(mk().observe(syn(A, 1000, { sport: 40001, seq: 77 }), 1)), ['progress', 2]);
    // Same sport and seq to another port: a wrong step.
    assert.deepEqual(outcome(mk().observe(syn(A, 2000, { sport: 40000, seq: 77 }), 1)), ['wrong-step', 0]);
  });

  it('AT(k) | s[k], k+1 < n -> progress AT(k+1); AT(k) | s[k], k+1 = n -> complete, DONE', () => {
    const t = new SequenceTracker([door('ssh', SSH)], 100);
    const outcomes = knock(t, A, SSH, 0);
    assert.deepEqual(outcomes, [
      ['progress', 1],
      ['progress', 2],
      ['progress', 3],
      ['progress', 4],
      ['progress', 5],
      ['progress', 6],
      ['complete', 7],
    ]);
    assert.equal(t.progressOf(0, A, 0), 0);
    // DONE is remembered until the deadline (for late retransmissions), then reclaimed, and not
    // counted as a timeout.
    assert.equal(t.stats().tracked, 1);
    assert.equal(t.sweep(10_000), 0);
    assert.deepEqual(t.stats(), { tracked: 0, timedOut: 0, evicted: 0 });
  });

  it('DONE | a resend of any step of the completed attempt -> retransmission; a new knock -> as IDLE', () => {
    const t = new SequenceTracker([door('d', [1000, 2000, 3000])], 100);
    const steps = [
      syn(A, 1000, { sport: 41000, seq: 1 }),
      syn(A, 2000, { sport: 41001, seq: 2 }),
      syn(A, 3000, { sport: 41002, seq: 3 }),
    ];
    assert.deepEqual(
      steps.map((p, i) => outcome(t.observe(p, i))),
      [
        ['progress', 1],
        ['progress', 2],
        ['complete', 3],
      ],
    );
    // The kernel keeps resending the dropped SYNs: none of them completes the door again.
    for (const p of [...steps, ...steps]) assert.deepEqual(outcome(t.observe(p, 5)), ['retransmission', 0]);
    // A genuine new knock opens again (a knock extends a grant).
    assert.deepEqual(knock(t, A, [1000, 2000, 3000], 6), [
      ['progress', 1],
      ['progress', 2],
      ['complete', 3],
    ]);
    // After the deadline the memory is gone: a resend is just a first step again.
    assert.deepEqual(outcome(t.observe(steps[0] as KnockPacket, 6 + 10_000)), ['progress', 1]);
  });

  it('AT(k) | another knock port that equals s[0] -> wrong-step, AT(1)', () => {
    const t = new SequenceTracker([door('d', [1000, 2000, 3000])], 100);
    knock(t, A, [1000, 2000], 0);
    assert.deepEqual(outcome(t.observe(syn(A, 1000), 1)), ['wrong-step', 1]);
    assert.equal(t.progressOf(0, A, 1), 1);
    assert.deepEqual(knock(t, A, [2000, 3000], 2), [
      ['progress', 2],
      ['complete', 3],
    ]);
  });

  it('AT(k) | any other knock port -> wrong-step, IDLE', () => {
    const t = new SequenceTracker([door('d', [1000, 2000, 3000, 4000])], 100);
    knock(t, A, [1000, 2000], 0);
    assert.deepEqual(outcome(t.observe(syn(A, 4000), 1)), ['wrong-step', 0]);
    assert.equal(t.progressOf(0, A, 1), 0);
    assert.equal(t.stats().tracked, 0);
    // No repair: continuing where it left off does not help.
    assert.deepEqual(outcome(t.observe(syn(A, 3000), 2)), ['not-first-step', 0]);
  });

  it('IDLE | s[0], n > 1 -> progress AT(1); IDLE | anything else in the knock set -> not-first-step', () => {
    const t = new SequenceTracker([door('d', [1000, 2000])], 100);
    assert.deepEqual(outcome(t.observe(syn(A, 2000), 0)), ['not-first-step', 0]);
    assert.equal(t.stats().tracked, 0);
    assert.deepEqual(outcome(t.observe(syn(A, 1000), 0)), ['progress', 1]);
    assert.equal(t.stats().tracked, 1);
  });

  it('IDLE | s[0], n = 1 -> complete immediately, without tracked state', () => {
    const t = new SequenceTracker([door('one', [4444])], 100);
    const e = one(t.observe(syn(A, 4444), 0));
    assert.deepEqual(e, { doorIndex: 0, door: 'one', source: A, family: 4, outcome: 'complete', stage: 1, steps: 1 });
    assert.equal(t.stats().tracked, 0);
    assert.equal(one(t.observe(syn(A, 4444), 1)).outcome, 'complete');
  });

  it('events carry door index and name, source, family, stage and step count', () => {
    const t = new SequenceTracker([door('x', [1]), door('y', [1000, 2000])], 100);
    assert.deepEqual(t.observe(syn(A, 1000), 0), [
      { doorIndex: 1, door: 'y', source: A, family: 4, outcome: 'progress', stage: 1, steps: 2 },
    ]);
  });
});

describe('SequenceTracker: scenarios', () => {
  it('completes the 7-step sequence in order with syn,!ack SYNs', () => {
    const flags = parseTcpFlags('syn,!ack');
    assert.ok(!('error' in flags));
    const t = new SequenceTracker([door('ssh', SSH, 10_000, flags)], 1000);
    let now = 100;
    for (let i = 0; i < SSH.length; i++) {
      const e = one(t.observe(syn(A, SSH[i] as number), now));
      assert.equal(e.outcome, i + 1 < SSH.length ? 'progress' : 'complete');
      assert.equal(e.stage, i + 1);
      assert.equal(e.steps, 7);
      now += 500;
    }
  });

  it('an out-of-order step resets progress to 0', () => {
    const t = new SequenceTracker([door('ssh', SSH)], 1000);
    knock(t, A, SSH.slice(0, 3), 0);
    assert.equal(t.progressOf(0, A, 0), 3);
    assert.deepEqual(outcome(t.observe(syn(A, SSH[4] as number), 1)), ['wrong-step', 0]);
    assert.equal(t.progressOf(0, A, 1), 0);
  });

  it('an exact retransmission neither resets nor advances', () => {
    const t = new SequenceTracker([door('d', [1000, 2000, 3000])], 100);
    knock(t, A, [1000], 0);
    const p = syn(A, 2000, { sport: 50000, seq: 123456 });
    assert.deepEqual(outcome(t.observe(p, 1)), ['progress', 2]);
    assert.deepEqual(outcome(t.observe({ ...p }, 2)), ['retransmission', 2]);
    assert.equal(t.progressOf(0, A, 2), 2);
    assert.deepEqual(outcome(t.observe(syn(A, 3000), 3)), ['complete', 3]);
  });

  it('a new attempt (new sport) to the port of the last step is a wrong step', () => {
    const t = new SequenceTracker([door('d', [1000, 2000])], 100);
    assert.deepEqual(outcome(t.observe(syn(A, 1000, { sport: 40000 }), 0)), ['progress', 1]);
    // 1000 is s[0], so the wrong step restarts at stage 1.
    assert.deepEqual(outcome(t.observe(syn(A, 1000, { sport: 40001 }), 1)), ['wrong-step', 1]);
    const t2 = new SequenceTracker([door('d', [1000, 2000, 3000])], 100);
    knock(t2, A, [1000, 2000], 0);
    assert.deepEqual(outcome(t2.observe(syn(A, 2000), 1)), ['wrong-step', 0]);
  });

  it('a sequence with a repeated port [1000, 1000, 2000] completes with three distinct SYNs', () => {
    const t = new SequenceTracker([door('d', [1000, 1000, 2000])], 100);
    assert.deepEqual(knock(t, A, [1000, 1000, 2000], 0), [
      ['progress', 1],
      ['progress', 2],
      ['complete', 3],
    ]);
    // One SYN and its retransmission do not count twice.
    const p = syn(A, 1000);
    assert.deepEqual(outcome(t.observe(p, 1)), ['progress', 1]);
    assert.deepEqual(outcome(t.observe(p, 1)), ['retransmission', 1]);
    assert.deepEqual(outcome(t.observe(syn(A, 2000), 1)), ['wrong-step', 0]);
  });

  it('interleaved sources progress independently; a third source does not disturb them', () => {
    const t = new SequenceTracker([door('ssh', SSH)], 100);
    const results: Record<string, string[]> = { [A]: [], [B]: [] };
    SSH.forEach((port, i) => {
      for (const src of [A, B]) results[src]?.push(one(t.observe(syn(src, port), i)).outcome);
      // C sends a wrong packet between every step.
      const ce = one(t.observe(syn(C, SSH[(i + 3) % SSH.length] as number), i));
      assert.notEqual(ce.outcome, 'complete');
      assert.equal(ce.source, C);
    });
    const expected = [...new Array<string>(6).fill('progress'), 'complete'];
    assert.deepEqual(results[A], expected);
    assert.deepEqual(results[B], expected);
  });

  it('the timeout runs from the first step: a step at started+T-1 advances, at started+T it does not', () => {
    const T = 10_000;
    const t = new SequenceTracker([door('d', [1000, 2000, 3000], T)], 100);
    assert.deepEqual(knock(t, A, [1000], 500), [['progress', 1]]);
    assert.deepEqual(knock(t, A, [2000], 9000), [['progress', 2]]); // does not extend the deadline
    assert.deepEqual(knock(t, A, [3000], 500 + T - 1), [['complete', 3]]);

    assert.deepEqual(knock(t, B, [1000, 2000], 500), [
      ['progress', 1],
      ['progress', 2],
    ]);
    assert.deepEqual(knock(t, B, [3000], 500 + T), [['not-first-step', 0]]);
    assert.equal(t.progressOf(0, B, 500 + T), 0);
  });

  it('progressOf reports 0 from the deadline on, before anything is swept', () => {
    const t = new SequenceTracker([door('d', [1000, 2000, 3000], 100)], 100);
    knock(t, A, [1000, 2000], 0);
    assert.equal(t.progressOf(0, A, 99), 2);
    assert.equal(t.progressOf(0, A, 100), 0);
    assert.equal(t.stats().tracked, 1);
  });

  it('sweep() removes expired entries and keeps live ones', () => {
    const t = new SequenceTracker([door('d', [1000, 2000, 3000], 1000), door('e', [5000, 6000], 5000)], 100);
    knock(t, A, [1000], 0); // deadline 1000, stage 1
    knock(t, B, [1000, 2000], 200); // deadline 1200, stage 2
    knock(t, C, [1000], 900); // deadline 1900
    knock(t, A, [5000], 0); // door e, deadline 5000
    assert.deepEqual(t.stats(), { tracked: 4, timedOut: 0, evicted: 0 });
    assert.equal(t.sweep(999), 0);
    assert.equal(t.stats().tracked, 4);
    assert.equal(t.sweep(1200), 2); // A at d, B at d
    assert.deepEqual(t.stats(), { tracked: 2, timedOut: 2, evicted: 0 });
    assert.equal(t.progressOf(0, C, 1200), 1);
    assert.equal(t.progressOf(1, A, 1200), 1);
    // The live ones still work.
    assert.deepEqual(knock(t, C, [2000, 3000], 1500), [
      ['progress', 2],
      ['complete', 3],
    ]);
    assert.equal(t.sweep(10_000), 1);
    assert.deepEqual(t.stats(), { tracked: 0, timedOut: 3, evicted: 0 });
    // A swept source starts from IDLE.
    assert.deepEqual(knock(t, A, [6000], 10_000), [['not-first-step', 0]]);
  });

  it('sweep() also reclaims stage-1 entries restarted by a wrong step (deadline order kept)', () => {
    const t = new SequenceTracker([door('d', [1000, 2000, 3000], 1000)], 100);
    knock(t, A, [1000], 0); // deadline 1000
    knock(t, B, [1000], 100); // deadline 1100
    knock(t, A, [1000], 500); // wrong step = s[0]: restarted, deadline 1500
    assert.equal(t.sweep(1100), 1); // only B
    assert.equal(t.progressOf(0, A, 1100), 1);
    assert.equal(t.sweep(1500), 1);
    assert.equal(t.stats().tracked, 0);
  });

  it('TCP packets failing the flags (SYN+ACK, RST) give flags-mismatch and change nothing', () => {
    const t = new SequenceTracker([door('d', [1000, 2000, 3000])], 100);
    knock(t, A, [1000], 0);
    const before = t.stats();
    assert.deepEqual(outcome(t.observe(syn(A, 2000, { flags: SYN | ACK }), 1)), ['flags-mismatch', 1]);
    assert.deepEqual(outcome(t.observe(syn(A, 3000, { flags: RST }), 1)), ['flags-mismatch', 1]);
    assert.deepEqual(outcome(t.observe(syn(B, 1000, { flags: RST }), 1)), ['flags-mismatch', 0]);
    assert.deepEqual(t.stats(), before);
    assert.deepEqual(knock(t, A, [2000, 3000], 2), [
      ['progress', 2],
      ['complete', 3],
    ]);
  });

  it('UDP steps ignore TCP flags; a TCP packet does not match a UDP step of the same port', () => {
    const t = new SequenceTracker(
      [door('d', [udpStep(7000), tcpStep(8000), udpStep(9000)], 10_000, flagsOf('syn,!ack,!fin'))],
      100,
    );
    assert.deepEqual(t.observe(syn(A, 7000), 0), []); // 7000/tcp is not in the knock set
    assert.deepEqual(outcome(t.observe(udp(A, 7000), 0)), ['progress', 1]);
    assert.deepEqual(t.observe(syn(A, 9000), 0), []);
    assert.deepEqual(t.observe(udp(A, 8000), 0), []); // 8000/udp is not in the knock set either
    assert.deepEqual(outcome(t.observe(syn(A, 8000), 0)), ['progress', 2]);
    assert.deepEqual(outcome(t.observe(udp(A, 9000), 0)), ['complete', 3]);
  });

  it('packets to ports outside the knock set return no event and do not disturb progress', () => {
    const t = new SequenceTracker([door('d', [1000, 2000, 3000])], 100);
    knock(t, A, [1000], 0);
    for (const p of [22, 80, 1001, 2999, 65535, 0]) assert.deepEqual(t.observe(syn(A, p), 1), []);
    assert.deepEqual(t.observe(udp(A, 1000), 1), []);
    assert.deepEqual(knock(t, A, [2000, 3000], 2), [
      ['progress', 2],
      ['complete', 3],
    ]);
  });

  it('two doors sharing a port both get an event, and progress separately', () => {
    const t = new SequenceTracker([door('a', [1000, 2000]), door('b', [3000, 1000])], 100);
    const first = t.observe(syn(A, 1000), 0);
    assert.deepEqual(
      first.map((e) => [e.doorIndex, e.door, e.outcome, e.stage]),
      [
        [0, 'a', 'progress', 1],
        [1, 'b', 'not-first-step', 0],
      ],
    );
    assert.deepEqual(one(t.observe(syn(A, 3000), 1)).doorIndex, 1);
    const second = t.observe(syn(A, 1000), 2);
    assert.deepEqual(
      second.map((e) => [e.doorIndex, e.outcome, e.stage]),
      [
        [0, 'wrong-step', 1],
        [1, 'complete', 2],
      ],
    );
  });

  it('IPv6 sources work the same and are told apart from each other', () => {
    const t = new SequenceTracker([door('d', [1000, 2000, 3000])], 100);
    const v6a = '2001:db8::1';
    const v6b = '2001:db8::2';
    const e = one(t.observe(syn(v6a, 1000), 0));
    assert.equal(e.family, 6);
    assert.equal(e.source, v6a);
    knock(t, v6b, [1000, 2000], 0);
    assert.deepEqual(knock(t, v6a, [2000, 3000], 1), [
      ['progress', 2],
      ['complete', 3],
    ]);
    assert.equal(t.progressOf(0, v6b, 1), 2);
  });

  it('replaceSteps resets progress of that door only; null steps mean no events for that door', () => {
    const t = new SequenceTracker([door('a', [1000, 2000, 3000]), door('b', [4000, 5000, 6000])], 100);
    knock(t, A, [1000, 2000], 0);
    knock(t, A, [4000, 5000], 0);
    knock(t, B, [1000], 0);
    assert.equal(t.stats().tracked, 3);
    t.replaceSteps(0, [tcpStep(7000), tcpStep(3000)]);
    assert.equal(t.stats().tracked, 1);
    assert.equal(t.progressOf(0, A, 1), 0);
    assert.equal(t.progressOf(0, B, 1), 0);
    assert.equal(t.progressOf(1, A, 1), 2);
    // Old-only ports are no longer knock ports; the half-knocked old sequence cannot complete.
    assert.deepEqual(t.observe(syn(A, 1000), 1), []);
    assert.deepEqual(outcome(t.observe(syn(A, 3000), 1)), ['not-first-step', 0]);
    assert.deepEqual(knock(t, A, [7000, 3000], 2), [
      ['progress', 1],
      ['complete', 2],
    ]);
    assert.deepEqual(knock(t, A, [6000], 2), [['complete', 3]]);

    t.replaceSteps(1, null);
    for (const p of [4000, 5000, 6000]) assert.deepEqual(t.observe(syn(A, p), 3), []);
    assert.equal(one(t.observe(syn(A, 7000), 3)).outcome, 'progress');
    assert.throws(() => t.replaceSteps(2, null), RangeError);
  });

  it('rejects a maxTracked that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => new SequenceTracker([], bad), RangeError);
  });
});

describe('SequenceTracker: memory cap', () => {
  const src = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

  it('10,000 first steps from distinct sources never track more than maxTracked; the rest are evicted', () => {
    const t = new SequenceTracker([door('d', [1000, 2000, 3000])], 100);
    for (let i = 0; i < 10_000; i++) {
      assert.equal(one(t.observe(syn(src(i), 1000), i)).outcome, 'progress');
      assert.ok(t.stats().tracked <= 100);
    }
    assert.deepEqual(t.stats(), { tracked: 100, timedOut: 0, evicted: 9_900 });
    // The oldest were evicted, the newest kept.
    assert.equal(t.progressOf(0, src(0), 10_000), 0);
    assert.equal(t.progressOf(0, src(9_899), 10_000), 0);
    assert.equal(t.progressOf(0, src(9_900), 10_000), 1);
    assert.equal(t.progressOf(0, src(9_999), 10_000), 1);
  });

  it('a source at stage 2+ survives a flood of 10,000 first-step-only sources and still completes', () => {
    const t = new SequenceTracker([door('d', [1000, 2000, 3000], 60_000)], 100);
    knock(t, A, [1000, 2000], 0);
    for (let i = 0; i < 10_000; i++) t.observe(syn(src(i), 1000), 1 + i);
    assert.equal(t.stats().tracked, 100);
    assert.equal(t.progressOf(0, A, 20_000), 2);
    assert.deepEqual(knock(t, A, [3000], 20_000), [['complete', 3]]);
  });

  it('when only advanced entries remain, the one with the earliest deadline is evicted', () => {
    const t = new SequenceTracker([door('d', [1000, 2000, 3000])], 2);
    knock(t, A, [1000, 2000], 0);
    knock(t, B, [1000, 2000], 5);
    knock(t, C, [1000], 10);
    assert.equal(t.stats().evicted, 1);
    assert.equal(t.progressOf(0, A, 10), 0);
    assert.equal(t.progressOf(0, B, 10), 2);
    assert.equal(t.progressOf(0, C, 10), 1);
  });

  it('eviction takes the oldest stage-1 entry across doors', () => {
    const t = new SequenceTracker([door('a', [1000, 2000]), door('b', [3000, 4000])], 3);
    knock(t, A, [3000], 0); // door b, oldest
    knock(t, B, [1000], 1);
    knock(t, C, [3000], 2);
    knock(t, '192.0.2.9', [1000], 3);
    assert.equal(t.progressOf(1, A, 3), 0);
    assert.equal(t.progressOf(0, B, 3), 1);
    assert.equal(t.progressOf(1, C, 3), 1);
    assert.equal(t.stats().evicted, 1);
  });
});

// ---------------------------------------------------------------------------------------------
// Reference model of the table (no eviction unless `cap` is given; then single door only).

interface MEntry {
  stage: number;
  deadline: number;
  taken: Set<string>;
  /** Insertion order into its pool (stage 1, or stage 2+), for eviction ties. */
  poolOrder: number;
}

class Model {
  readonly entries: Map<string, MEntry>[];
  tracked = 0;
  timedOut = 0;
  evicted = 0;
  private order = 0;
  constructor(
    readonly doors: readonly SequenceDoorSpec[],
    readonly cap: number = Infinity,
  ) {
    this.entries = doors.map(() => new Map());
  }

  observe(p: KnockPacket, now: number): KnockEvent[] {
    const out: KnockEvent[] = [];
    this.doors.forEach((d, i) => {
      const keys = (d.steps ?? []).map((s) => `${s.proto}/${s.port}`);
      const key = `${p.proto}/${p.dport}`;
      if (!keys.includes(key)) return;
      const n = keys.length;
      const map = this.entries[i] as Map<string, MEntry>;
      const ev = (outcome: KnockEvent['outcome'], stage: number): void => {
        out.push({ doorIndex: i, door: d.name, source: p.src, family: p.family, outcome, stage, steps: n });
      };
      let e = map.get(p.src);
      if (p.proto === 'tcp' && !tcpFlagsMatch(p.tcpFlags, d.tcpFlags)) {
        ev('flags-mismatch', e !== undefined && now < e.deadline && e.stage < n ? e.stage : 0);
        return;
      }
      if (e !== undefined && now >= e.deadline) {
        map.delete(p.src);
        this.tracked--;
        if (e.stage < n) this.timedOut++;
        e = undefined;
      }
      const print = `${p.proto}/${p.sport}/${p.dport}/${p.tcpSeq}`;
      const start = (): void => {
        if (this.tracked >= this.cap) this.evict();
        map.set(p.src, { stage: 1, deadline: now + d.timeoutMs, taken: new Set([print]), poolOrder: this.order++ });
        this.tracked++;
      };
      if (e !== undefined) {
        // DONE (stage n): only its own retransmissions are remembered; anything else is as IDLE.
        if (e.taken.has(print)) {
          ev('retransmission', e.stage === n ? 0 : e.stage);
          return;
        }
        if (e.stage === n) {
          map.delete(p.src);
          this.tracked--;
          e = undefined;
        }
      }
      if (e !== undefined) {
        if (keys[e.stage] === key) {
          if (e.stage + 1 === n) {
            e.stage++;
            e.taken.add(print);
            if (e.stage === 2) e.poolOrder = this.order++;
            ev('complete', n);
            return;
          }
          e.stage++;
          e.taken.add(print);
          if (e.stage === 2) e.poolOrder = this.order++;
          ev('progress', e.stage);
          return;
        }
        map.delete(p.src);
        this.tracked--;
        if (keys[0] !== key) {
          ev('wrong-step', 0);
          return;
        }
        start();
        ev('wrong-step', 1);
        return;
      }
      if (keys[0] !== key) {
        ev('not-first-step', 0);
        return;
      }
      if (n === 1) {
        ev('complete', 1);
        return;
      }
      start();
      ev('progress', 1);
      return;
    });
    return out;
  }

  /** Single-door eviction: the stage-1 entry with the earliest deadline, else the earliest advanced. */
  private evict(): void {
    for (const fresh of [true, false]) {
      let victim: [Map<string, MEntry>, string] | undefined;
      let best: [number, number] = [Infinity, Infinity];
      for (const map of this.entries) {
        for (const [src, e] of map) {
          if ((e.stage === 1) !== fresh) continue;
          if (e.deadline < best[0] || (e.deadline === best[0] && e.poolOrder < best[1])) {
            best = [e.deadline, e.poolOrder];
            victim = [map, src];
          }
        }
      }
      if (victim) {
        victim[0].delete(victim[1]);
        this.tracked--;
        this.evicted++;
        return;
      }
    }
  }

  sweep(now: number): number {
    let removed = 0;
    let timedOut = 0;
    this.entries.forEach((map, i) => {
      const n = this.doors[i]?.steps?.length ?? 0;
      for (const [src, e] of map) {
        if (e.deadline <= now) {
          map.delete(src);
          removed++;
          if (e.stage < n) timedOut++;
        }
      }
    });
    this.tracked -= removed;
    this.timedOut += timedOut;
    return timedOut;
  }
}

type Action = { kind: 'packet'; dt: number; p: KnockPacket } | { kind: 'sweep'; dt: number };

const FLAG_CHOICES = [SYN, SYN, SYN, SYN | ACK, RST, ACK, SYN | ECE | CWR];

function actionArb(sources: readonly string[], ports: readonly number[], maxDt: number): fc.Arbitrary<Action> {
  const packet = fc
    .record({
      dt: fc.nat({ max: maxDt }),
      src: fc.constantFrom(...sources),
      proto: fc.constantFrom<Protocol>('tcp', 'tcp', 'udp'),
      dport: fc.constantFrom(...ports),
      sport: fc.integer({ min: 40000, max: 40002 }),
      seq: fc.integer({ min: 0, max: 1 }),
      flags: fc.constantFrom(...FLAG_CHOICES),
    })
    .map(
      (r): Action => ({
        kind: 'packet',
        dt: r.dt,
        p: {
          family: r.src.includes(':') ? 6 : 4,
          src: r.src,
          proto: r.proto,
          sport: r.sport,
          dport: r.dport,
          tcpFlags: r.proto === 'udp' ? 0 : r.flags,
          tcpSeq: r.proto === 'udp' ? 0 : r.seq,
        },
      }),
    );
  const sweep = fc.nat({ max: maxDt }).map((dt): Action => ({ kind: 'sweep', dt }));
  return fc.oneof({ arbitrary: packet, weight: 12 }, { arbitrary: sweep, weight: 1 });
}

const KNOCK_PORTS = [1000, 1001, 1002, 1003];
const NOISE_PORTS = [9999, 22];
const stepArb = fc.record({
  proto: fc.constantFrom<Protocol>('tcp', 'tcp', 'udp'),
  port: fc.constantFrom(...KNOCK_PORTS),
});
const doorArb = (i: number): fc.Arbitrary<SequenceDoorSpec> =>
  fc.record({
    name: fc.constant(`door${i}`),
    steps: fc.array(stepArb, { minLength: 1, maxLength: 5 }),
    timeoutMs: fc.integer({ min: 50, max: 600 }),
    tcpFlags: fc.constantFrom(SYN_NOT_ACK, flagsOf('syn'), flagsOf('syn,!ack,!rst')),
  });

/** Whether `src` sent door's steps in order (flags passing) within (t - T, t], ending with packet `end`. */
function backedByFullSequence(
  history: readonly { t: number; p: KnockPacket }[],
  end: number,
  d: SequenceDoorSpec,
  src: string,
): boolean {
  const steps = d.steps ?? [];
  const endT = (history[end] as { t: number }).t;
  let k = 0;
  for (let j = 0; j <= end && k < steps.length; j++) {
    const h = history[j] as { t: number; p: KnockPacket };
    if (h.p.src !== src || h.t <= endT - d.timeoutMs) continue;
    if (h.p.proto === 'tcp' && !tcpFlagsMatch(h.p.tcpFlags, d.tcpFlags)) continue;
    const s = steps[k] as Endpoint;
    if (h.p.proto === s.proto && h.p.dport === s.port) k++;
  }
  return k === steps.length;
}

describe('SequenceTracker properties', () => {
  it('property: for any interleaving of packets from any sources, tracked never exceeds maxTracked, observe never throws, and a source completes only after sending the full sequence in order within the timeout', () => {
    const sources = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '2001:db8::1'];
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => doorArb(i)))),
        fc.array(actionArb(sources, [...KNOCK_PORTS, ...NOISE_PORTS], 60), {
          minLength: 1,
          maxLength: 150,
          size: 'max',
        }),
        (doors, actions) => {
          const maxTracked = 1000;
          const tracker = new SequenceTracker(doors, maxTracked);
          const model = new Model(doors);
          const history: { t: number; p: KnockPacket }[] = [];
          let now = 0;
          for (const a of actions) {
            now += a.dt;
            if (a.kind === 'sweep') {
              assert.equal(tracker.sweep(now), model.sweep(now));
            } else {
              history.push({ t: now, p: a.p });
              const got = tracker.observe(a.p, now);
              assert.deepEqual(got, model.observe(a.p, now));
              for (const e of got) {
                if (e.outcome === 'complete') {
                  assert.ok(
                    backedByFullSequence(history, history.length - 1, doors[e.doorIndex] as SequenceDoorSpec, e.source),
                    'completion without the full sequence',
                  );
                }
              }
            }
            const s = tracker.stats();
            assert.ok(s.tracked <= maxTracked);
            assert.deepEqual(s, { tracked: model.tracked, timedOut: model.timedOut, evicted: 0 });
            for (const src of sources) {
              doors.forEach((_, i) => {
                const m = model.entries[i]?.get(src);
                const n = doors[i]?.steps?.length ?? 0;
                assert.equal(
                  tracker.progressOf(i, src, now),
                  m !== undefined && now < m.deadline && m.stage < n ? m.stage : 0,
                );
              });
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('property: with a small cap, tracked never exceeds maxTracked and eviction takes stage-1 entries (oldest first) before advanced ones', () => {
    const sources = Array.from({ length: 30 }, (_, i) => `10.0.0.${i}`);
    fc.assert(
      fc.property(
        doorArb(0),
        fc.integer({ min: 1, max: 8 }),
        fc.array(actionArb(sources, KNOCK_PORTS, 20), { minLength: 1, maxLength: 300, size: 'max' }),
        (d, maxTracked, actions) => {
          const tracker = new SequenceTracker([d], maxTracked);
          const model = new Model([d], maxTracked);
          let now = 0;
          for (const a of actions) {
            now += a.dt;
            if (a.kind === 'sweep') assert.equal(tracker.sweep(now), model.sweep(now));
            else assert.deepEqual(tracker.observe(a.p, now), model.observe(a.p, now));
            const s = tracker.stats();
            assert.ok(s.tracked <= maxTracked, `tracked ${s.tracked} > ${maxTracked}`);
            assert.deepEqual(s, { tracked: model.tracked, timedOut: model.timedOut, evicted: model.evicted });
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
