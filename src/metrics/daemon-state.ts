/**
 * The daemon's collected families: figures its parts own (the tracker's table, the kernel's
 * delivery counts for captures and sockets, the grant book, the replay store's fill), read when a snapshot is taken.
 * Capture and socket figures have no samples while there is no capture or socket, so that a
 * daemon without them does not report zeros that would read as "nothing arrived".
 */

import type { SequenceStats } from '../core/sequence.js';
import type { Metrics } from '../ports/metrics.js';
import type { SourceStats } from '../ports/packet-source.js';
import type { daemonMetricSpecs } from './daemon-metrics.js';
import type { SensorKind } from '../ports/parsed-packet-source.js';

/** What one firewall-log sensor received and knows it lost (daemon/parsed-sensors.ts). */
export interface SensorFigures {
  readonly sensor: SensorKind;
  readonly received: number;
  readonly lost: number;
}

export interface DaemonStateReaders {
  readonly sequences: () => SequenceStats;
  readonly capture: () => SourceStats | null;
  readonly sockets: () => SourceStats | null;
  /** Each firewall-log sensor's figures; none without such a sensor. */
  readonly sensors?: () => readonly SensorFigures[];
  readonly liveGrants: () => number;
  /** The replay store's fill; null without SPA or fwknop doors. */
  readonly replay: () => { readonly entries: number; readonly capacity: number } | null;
}

export function collectDaemonState(
  metrics: Metrics,
  specs: ReturnType<typeof daemonMetricSpecs>,
  read: DaemonStateReaders,
): void {
  const one = (value: number) => [{ labels: {}, value }];
  const byOutcome = (s: SourceStats | null) =>
    s === null
      ? []
      : [
          { labels: { outcome: 'received' as const }, value: s.received },
          { labels: { outcome: 'dropped' as const }, value: s.dropped },
        ];
  metrics.collect(specs.sequencesTracked, 'gauge', () => one(read.sequences().tracked));
  metrics.collect(specs.sequencesTimedOut, 'counter', () => one(read.sequences().timedOut));
  metrics.collect(specs.sequencesEvicted, 'counter', () => one(read.sequences().evicted));
  metrics.collect(specs.capturePackets, 'counter', () => byOutcome(read.capture()));
  metrics.collect(specs.socketPackets, 'counter', () => byOutcome(read.sockets()));
  metrics.collect(specs.sensorPackets, 'counter', () =>
    (read.sensors?.() ?? []).flatMap((f) => [
      { labels: { sensor: f.sensor, outcome: 'received' as const }, value: f.received },
      { labels: { sensor: f.sensor, outcome: 'lost' as const }, value: f.lost },
    ]),
  );
  metrics.collect(specs.grantsActive, 'gauge', () => one(read.liveGrants()));
  const replay = (pick: (r: { entries: number; capacity: number }) => number) => () => {
    const r = read.replay();
    return r === null ? [] : one(pick(r));
  };
  metrics.collect(
    specs.replayEntries,
    'gauge',
    replay((r) => r.entries),
  );
  metrics.collect(
    specs.replayCapacity,
    'gauge',
    replay((r) => r.capacity),
  );
}
