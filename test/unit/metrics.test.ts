/**
 * The metrics port and its registry (ports/metrics.ts, metrics/registry.ts), the daemon's catalogue
 * (metrics/daemon-metrics.ts) and the stats line built from it (metrics/stats-line.ts): labels only
 * from closed lists, counters from zero, collected figures read when asked, the stats line's names
 * unchanged, and the daemon in process moving labelled series without ever labelling an address.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FRAME_DROP_REASONS, SPA_REJECT_REASONS } from '../../src/core/reasons.js';
import { DaemonMetrics } from '../../src/metrics/daemon-metrics.js';
import { MetricLabelError, MetricRegistry } from '../../src/metrics/registry.js';
import { statsLine } from '../../src/metrics/stats-line.js';
import type { MetricFamilySnapshot } from '../../src/ports/metrics.js';
import { daemonHarness } from '../support/daemon-harness.js';
import { tcpFrame } from '../support/frames.js';

const family = (snap: readonly MetricFamilySnapshot[], name: string): MetricFamilySnapshot => {
  const f = snap.find((x) => x.name === name);
  assert.ok(f, `no family ${name}`);
  return f;
};
const value = (f: MetricFamilySnapshot, labels: Record<string, string>): number | undefined =>
  f.samples.find((s) => JSON.stringify(s.labels) === JSON.stringify(labels))?.value;

describe('MetricRegistry', () => {
  it('counts each label combination from zero, a child resolved once and incremented after', () => {
    const r = new MetricRegistry();
    const c = r.counter({ name: 'x_total', help: 'h', labels: { door: ['a', 'b'], verdict: ['ok', 'no'] } });
    const aOk = c.with({ door: 'a', verdict: 'ok' });
    aOk.inc();
    aOk.inc(2);
    c.with({ door: 'b', verdict: 'no' }).inc();
    c.with({ door: 'a', verdict: 'ok' }).inc(); // the same series as aOk
    const f = family(r.snapshot(), 'x_total');
    assert.equal(f.type, 'counter');
    assert.equal(value(f, { door: 'a', verdict: 'ok' }), 4);
    assert.equal(value(f, { door: 'b', verdict: 'no' }), 1);
    assert.equal(value(f, { door: 'a', verdict: 'no' }), undefined, 'a combination never resolved has no sample');
  });

  it('refuses a label value outside its declared list, a missing or extra label, a bad or doubled name', () => {
    const r = new MetricRegistry();
    const c = r.counter({ name: 'y_total', help: 'h', labels: { door: ['a'] } });
    assert.throws(() => c.with({ door: '198.18.0.2' }), MetricLabelError);
    assert.throws(() => c.with({} as { door: string }), MetricLabelError);
    assert.throws(() => c.with({ door: 'a', source: 'x' } as { door: string }), MetricLabelError);
    assert.throws(() => r.counter({ name: 'y_total', help: 'h', labels: {} }), /declared twice/);
    assert.throws(() => r.counter({ name: 'bad-name', help: 'h', labels: {} }), /not a metric name/);
    assert.throws(() => r.counter({ name: 'z', help: 'h', labels: { 'bad-label': [] } }), /not a label name/);
  });

  it('a counter declared again with the same shape (a reload with other doors) widens its labels and keeps its counts', () => {
    const r = new MetricRegistry();
    const first = r.counter({ name: 'w_total', help: 'h', labels: { door: ['a'] } });
    first.with({ door: 'a' }).inc(2);
    const again = r.counter({ name: 'w_total', help: 'h', labels: { door: ['b'] } });
    again.with({ door: 'b' }).inc();
    again.with({ door: 'a' }).inc(); // a removed door's series is still there and counts on
    const f = family(r.snapshot(), 'w_total');
    assert.equal(value(f, { door: 'a' }), 3);
    assert.equal(value(f, { door: 'b' }), 1);
    assert.equal(r.snapshot().filter((x) => x.name === 'w_total').length, 1, 'one family, not two');
    assert.throws(() => again.with({ door: 'c' }), MetricLabelError, 'still a closed list');
    assert.throws(() => r.counter({ name: 'w_total', help: 'other help', labels: { door: [] } }), /declared twice/);
  });

  it('reads collected families when the snapshot is taken, and checks their labels too', () => {
    const r = new MetricRegistry();
    let live = 3;
    r.collect({ name: 'g', help: 'h', labels: {} }, 'gauge', () => [{ labels: {}, value: live }]);
    assert.equal(family(r.snapshot(), 'g').samples[0]?.value, 3);
    live = 5;
    assert.equal(family(r.snapshot(), 'g').samples[0]?.value, 5, 'never a stale copy');
    r.collect({ name: 'k', help: 'h', labels: { outcome: ['received'] } }, 'counter', () => [
      { labels: { outcome: 'lost' as 'received' }, value: 1 },
    ]);
    assert.throws(() => r.snapshot(), MetricLabelError);
  });
});

describe('DaemonMetrics and the stats line', () => {
  it('keeps the stats line names: per-kind reject keys summed over doors, zero counters absent', () => {
    const r = new MetricRegistry();
    const m = new DaemonMetrics(r, ['ssh', 'web', 'old']);
    m.datagramDoor('ssh', 'spa').rejected('spa-mac1').inc();
    m.datagramDoor('web', 'spa').rejected('spa-mac1').inc(2);
    m.datagramDoor('old', 'fwknop').rejected('fwknop-replayed').inc();
    m.datagramDoor('ssh', 'spa').accepted.inc();
    m.frameDropped('ip-fragment').inc();
    m.knock('web', 'wrong-step').inc();
    m.grant('web', 'opened').inc();
    assert.deepEqual(statsLine(r.snapshot()), {
      spa_rejected_mac1: 3,
      fwknop_rejected_replayed: 1,
      spa_accepted: 1,
      'frames_dropped_ip-fragment': 1,
      knocks_wrong_step: 1,
      grants_opened: 1,
    });
    const rejected = family(r.snapshot(), 'knockgate_datagrams_rejected_total');
    assert.equal(value(rejected, { door: 'web', kind: 'spa', reason: 'spa-mac1' }), 2);
  });

  it('declares every frame drop and SPA reject reason as a series up front (a dashboard sees zeros, not gaps)', () => {
    const r = new MetricRegistry();
    const m = new DaemonMetrics(r, ['ssh']);
    m.datagramDoor('ssh', 'spa');
    const snap = r.snapshot();
    const dropped = family(snap, 'knockgate_frames_dropped_total');
    assert.deepEqual(
      dropped.samples.map((s) => s.labels.reason),
      [...FRAME_DROP_REASONS],
    );
    const rejected = family(snap, 'knockgate_datagrams_rejected_total');
    for (const reason of SPA_REJECT_REASONS)
      assert.equal(value(rejected, { door: 'ssh', kind: 'spa', reason }), 0, reason);
  });

  it('a door the configuration does not have is a wiring error, not a new series', () => {
    const m = new DaemonMetrics(new MetricRegistry(), ['ssh']);
    assert.throws(() => m.grant('nope', 'opened'), /no door named "nope"/);
    assert.throws(() => m.knock('nope', 'progress'), /no door named/);
  });
});

describe('Daemon (in process): metrics', () => {
  const yaml = [
    'interfaces: [any]',
    'doors:',
    '  - name: web',
    '    sequence: [7001, 7002, 7003]',
    '    open: [22]',
    '    duration: 30s',
    '',
  ].join('\n');

  it('knocks move the labelled series by door and outcome, grants by door and event; grants_active follows the book', async () => {
    const h = await daemonHarness(yaml);
    try {
      await h.daemon.start();
      for (const p of [7001, 7002, 7003]) h.frames.inject(tcpFrame({ src: '198.18.0.2' }, p));
      h.frames.inject(tcpFrame({ src: '198.18.0.3' }, 7002));
      await h.settle();
      const snap = h.metrics.snapshot();
      const knocks = family(snap, 'knockgate_knocks_total');
      assert.equal(value(knocks, { door: 'web', outcome: 'progress' }), 2);
      assert.equal(value(knocks, { door: 'web', outcome: 'complete' }), 1);
      assert.equal(value(knocks, { door: 'web', outcome: 'not-first-step' }), 1);
      assert.equal(value(family(snap, 'knockgate_grant_events_total'), { door: 'web', event: 'opened' }), 1);
      assert.equal(family(snap, 'knockgate_grants_active').samples[0]?.value, 1);
      assert.equal(family(snap, 'knockgate_frames_total').samples[0]?.value, 4);
      await h.advance(31_000);
      const after = h.metrics.snapshot();
      assert.equal(family(after, 'knockgate_grants_active').samples[0]?.value, 0);
      assert.equal(value(family(after, 'knockgate_grant_events_total'), { door: 'web', event: 'expired' }), 1);
      assert.equal(h.daemon.stats().live_grants, 0);
    } finally {
      await h.close();
    }
  });

  it('no label value is ever a source address, whatever sources knock (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.constantFrom(7001, 7002, 7003, 22, 80)), {
          minLength: 1,
          maxLength: 40,
        }),
        async (knocks) => {
          const h = await daemonHarness(yaml);
          try {
            await h.daemon.start();
            const sources = knocks.map(([n]) => `198.18.${n >> 8}.${n & 255}`);
            knocks.forEach(([, port], i) => {
              h.frames.inject(tcpFrame({ src: sources[i] as string }, port));
            });
            h.frames.inject(randomBytes(7)); // and a frame too short to parse
            await h.settle();
            const values = new Set(
              h.metrics.snapshot().flatMap((f) => f.samples.flatMap((s) => Object.values(s.labels))),
            );
            for (const s of sources) assert.equal(values.has(s), false, `${s} became a label value`);
            assert.ok(values.has('web'));
          } finally {
            await h.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
