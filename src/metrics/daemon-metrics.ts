/**
 * Every metric knockgated exports, declared once: Prometheus names (`knockgate_` prefix, `_total`
 * counters), help texts, and labels whose values come from closed lists only (the reason lists of
 * core/reasons.ts, the configured door names, fixed verdicts). No label ever holds an address.
 *
 * The parts receive the handles they count with, resolved here at start so that counting a packet
 * is one map read and one addition. The flat keys of the `stats` log line are derived from these
 * families in stats-line.ts.
 */

import {
  FRAME_DROP_REASONS,
  FWKNOP_REJECT_REASONS,
  SEQUENCE_OUTCOMES,
  SENSOR_DROP_REASONS,
  SPA_REJECT_REASONS,
  type FrameDropReason,
  type SensorDropReason,
  type SequenceOutcome,
  type SpaDoorRejectReason,
} from '../core/reasons.js';
import { OLD_SERVER_KEY_USES, type OldServerKeyUse } from '../core/spa/native-door-keys.js';
import { SENSOR_KINDS, type SensorKind } from '../ports/parsed-packet-source.js';
import type { Counter, CounterChild, HistogramSpec, LabelSpec, Metrics, MetricSpec } from '../ports/metrics.js';

export const DATAGRAM_DOOR_KINDS = ['spa', 'fwknop'] as const;
export type DatagramDoorKind = (typeof DATAGRAM_DOOR_KINDS)[number];

/** What the kernel reports for a capture or a socket. */
export const PACKET_OUTCOMES = ['received', 'dropped'] as const;
/** What a firewall-log sensor reports: records delivered, and records it knows were lost before it read them. */
export const SENSOR_PACKET_OUTCOMES = ['received', 'lost'] as const;

export const GRANT_EVENTS = ['opened', 'extended', 'expired', 'revoked', 'failed', 'refused'] as const;
export type GrantEvent = (typeof GRANT_EVENTS)[number];

type DoorKindLabels = { readonly door: readonly string[]; readonly kind: typeof DATAGRAM_DOOR_KINDS };

/** Every reason a datagram door can refuse with (native SPA's, then fwknop's own). */
export const DATAGRAM_REJECT_REASONS: readonly SpaDoorRejectReason[] = [
  ...SPA_REJECT_REASONS,
  ...FWKNOP_REJECT_REASONS.filter((r) => !(SPA_REJECT_REASONS as readonly string[]).includes(r)),
];

/** The families' specs, by the door names of a configuration. */
export function daemonMetricSpecs(doors: readonly string[]) {
  const spec = <L extends LabelSpec>(name: string, help: string, labels: L): MetricSpec<L> => ({ name, help, labels });
  return {
    frames: spec('knockgate_frames_total', 'Captured frames looked at.', {}),
    framesDropped: spec('knockgate_frames_dropped_total', 'Captured frames not parsed into a packet, by reason.', {
      reason: FRAME_DROP_REASONS,
    }),
    knocks: spec('knockgate_knocks_total', 'Knock-sequence events, by door and outcome.', {
      door: doors,
      outcome: SEQUENCE_OUTCOMES,
    }),
    datagrams: spec('knockgate_datagrams_total', 'SPA and fwknop datagrams given to a door.', {
      door: doors,
      kind: DATAGRAM_DOOR_KINDS,
    }),
    accepted: spec('knockgate_datagrams_accepted_total', 'SPA and fwknop datagrams accepted.', {
      door: doors,
      kind: DATAGRAM_DOOR_KINDS,
    }),
    rejected: spec('knockgate_datagrams_rejected_total', 'SPA and fwknop datagrams refused, by reason.', {
      door: doors,
      kind: DATAGRAM_DOOR_KINDS,
      reason: DATAGRAM_REJECT_REASONS,
    }),
    spaServerKey: spec(
      'knockgate_spa_old_server_key_total',
      'Native SPA datagrams made for the previous server key (key rotation): during the overlap, and after it (refused).',
      { door: doors, server_key: OLD_SERVER_KEY_USES },
    ),
    grants: spec('knockgate_grant_events_total', 'Grants opened, extended, expired, failed or refused, by door.', {
      door: doors,
      event: GRANT_EVENTS,
    }),
    commandsRefused: spec(
      'knockgate_commands_refused_total',
      'Start commands not run because their stop command could not be recorded durably.',
      { door: doors },
    ),
    auditFailures: spec(
      'knockgate_audit_write_failures_total',
      'Audit records that could not be written durably (a grant or extension so affected is closed again).',
      {},
    ),
    // Collected when read (metrics/daemon-state.ts): the parts own these figures.
    sequencesTracked: spec('knockgate_sequences_tracked', 'Sources with a knock sequence in progress.', {}),
    sequencesTimedOut: spec('knockgate_sequences_timed_out_total', 'Knock sequences that ran out of time.', {}),
    sequencesEvicted: spec(
      'knockgate_sequences_evicted_total',
      'Knock sequences dropped to make room (the tracker was full).',
      {},
    ),
    capturePackets: spec(
      'knockgate_capture_packets_total',
      'Packets the kernel delivered to or dropped for the captures.',
      {
        outcome: PACKET_OUTCOMES,
      },
    ),
    sensorRecordsDropped: spec(
      'knockgate_sensor_records_dropped_total',
      'Records of a firewall-log sensor (NFLOG, kernel log) that were not a usable packet, by reason.',
      { sensor: SENSOR_KINDS, reason: SENSOR_DROP_REASONS },
    ),
    sensorPackets: spec(
      'knockgate_sensor_packets_total',
      'Records a firewall-log sensor received, and records lost before it read them (NFLOG socket overrun, kernel log ring overwritten).',
      { sensor: SENSOR_KINDS, outcome: SENSOR_PACKET_OUTCOMES },
    ),
    socketPackets: spec(
      'knockgate_socket_packets_total',
      'Datagrams the kernel delivered to or dropped for the SPA sockets.',
      {
        outcome: PACKET_OUTCOMES,
      },
    ),
    grantsActive: spec('knockgate_grants_active', 'Grants open now.', {}),
    replayEntries: spec(
      'knockgate_replay_entries',
      'Records the replay store holds now (accepted packets not yet expired).',
      {},
    ),
    replayCapacity: spec(
      'knockgate_replay_capacity',
      'Records the replay store may hold (spa.max_replay_entries).',
      {},
    ),
    reloads: spec('knockgate_reloads_total', 'Configuration reloads, applied or refused.', {
      outcome: RELOAD_OUTCOMES,
    }),
  } as const;
}

export const RELOAD_OUTCOMES = ['applied', 'refused'] as const;
export const FIREWALL_BATCH_OUTCOMES = ['applied', 'refused'] as const;

/**
 * How long a firewall transaction takes, from handing it to libnftables (or nft) to its answer:
 * the part of "last packet to open port" that the kernel spends. Buckets from 0.25 ms to 2.5 s.
 */
export const FIREWALL_BATCH_SECONDS: HistogramSpec<{ outcome: typeof FIREWALL_BATCH_OUTCOMES }> = {
  name: 'knockgate_firewall_batch_seconds',
  help: 'Time a firewall transaction (a batch of grants, or the layout) took to be applied or refused.',
  labels: { outcome: FIREWALL_BATCH_OUTCOMES },
  buckets: [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
};

/** What a datagram door (native SPA or fwknop) counts with. */
export interface DatagramDoorCounters {
  readonly received: CounterChild;
  readonly accepted: CounterChild;
  readonly rejected: (reason: SpaDoorRejectReason) => CounterChild;
  /** Native SPA doors only: datagrams made for the previous server key, by when. */
  readonly oldServerKey?: (use: OldServerKeyUse) => CounterChild;
}

/**
 * The handles the daemon's parts count with, resolved from the registry at start and again for the
 * doors a reload adds (admitDoors). One object for the daemon's life: the grantor and the pending
 * stop commands outlive a reload, and a removed door's grants still count when they run out.
 */
export class DaemonMetrics {
  readonly frames: CounterChild;
  private readonly dropped: ReadonlyMap<FrameDropReason, CounterChild>;
  private readonly knockChildren = new Map<string, ReadonlyMap<SequenceOutcome, CounterChild>>();
  private readonly grantChildren = new Map<string, ReadonlyMap<GrantEvent, CounterChild>>();
  private readonly refusedCommands = new Map<string, CounterChild>();
  private readonly reloadChildren: ReadonlyMap<(typeof RELOAD_OUTCOMES)[number], CounterChild>;
  readonly auditFailures: CounterChild;
  private readonly sensorDrops: Counter<{ sensor: typeof SENSOR_KINDS; reason: readonly SensorDropReason[] }>;
  private datagrams!: Counter<DoorKindLabels>;
  private acceptedFamily!: Counter<DoorKindLabels>;
  private rejectedFamily!: Counter<DoorKindLabels & { reason: readonly SpaDoorRejectReason[] }>;
  private spaServerKeyFamily!: Counter<{
    readonly door: readonly string[];
    readonly server_key: typeof OLD_SERVER_KEY_USES;
  }>;

  /** The families' specs (the collected ones are declared by their owners, metrics/daemon-state.ts). */
  readonly specs: ReturnType<typeof daemonMetricSpecs>;

  constructor(
    private readonly registry: Metrics,
    doors: readonly string[],
  ) {
    const s = daemonMetricSpecs(doors);
    this.specs = s;
    this.frames = registry.counter(s.frames).with({});
    const dropped = registry.counter(s.framesDropped);
    this.dropped = new Map(FRAME_DROP_REASONS.map((reason) => [reason, dropped.with({ reason })]));
    const reloads = registry.counter(s.reloads);
    this.reloadChildren = new Map(RELOAD_OUTCOMES.map((outcome) => [outcome, reloads.with({ outcome })]));
    this.auditFailures = registry.counter(s.auditFailures).with({});
    this.sensorDrops = registry.counter(s.sensorRecordsDropped);
    this.admitDoors(doors);
  }

  /** Resolves the handles of doors not counted for yet (at start; after a reload, its new doors). */
  admitDoors(doors: readonly string[]): void {
    const s = daemonMetricSpecs(doors);
    const r = this.registry;
    const knocks = r.counter(s.knocks);
    const grants = r.counter(s.grants);
    const refused = r.counter(s.commandsRefused);
    this.datagrams = r.counter(s.datagrams);
    this.acceptedFamily = r.counter(s.accepted);
    this.rejectedFamily = r.counter(s.rejected);
    this.spaServerKeyFamily = r.counter(s.spaServerKey);
    for (const door of doors) {
      if (this.grantChildren.has(door)) continue;
      this.knockChildren.set(
        door,
        new Map(SEQUENCE_OUTCOMES.map((outcome) => [outcome, knocks.with({ door, outcome })])),
      );
      this.grantChildren.set(door, new Map(GRANT_EVENTS.map((event) => [event, grants.with({ door, event })])));
      this.refusedCommands.set(door, refused.with({ door }));
    }
  }

  /**
   * Whether `door` is counted for: configured now or at some time since start (a grant adopted at
   * start may name a door that no longer is).
   */
  knowsDoor(door: string): boolean {
    return this.grantChildren.has(door);
  }

  reload(outcome: (typeof RELOAD_OUTCOMES)[number]): CounterChild {
    return this.reloadChildren.get(outcome) as CounterChild;
  }

  frameDropped(reason: FrameDropReason): CounterChild {
    return this.dropped.get(reason) as CounterChild;
  }

  /** A firewall-log sensor's drops of one reason (resolved once by the sensor's owner, not per record). */
  sensorDropped(sensor: SensorKind, reason: SensorDropReason): CounterChild {
    return this.sensorDrops.with({ sensor, reason });
  }

  knock(door: string, outcome: SequenceOutcome): CounterChild {
    return this.knockChildren.get(door)?.get(outcome) ?? unknownDoor(door);
  }

  grant(door: string, event: GrantEvent): CounterChild {
    return this.grantChildren.get(door)?.get(event) ?? unknownDoor(door);
  }

  commandRefused(door: string): CounterChild {
    return this.refusedCommands.get(door) ?? unknownDoor(door);
  }

  /** A datagram door's counters, every reason resolved now (rejection is a flood's hot path). */
  datagramDoor(door: string, kind: DatagramDoorKind): DatagramDoorCounters {
    const rejected = new Map(
      DATAGRAM_REJECT_REASONS.map((reason) => [reason, this.rejectedFamily.with({ door, kind, reason })]),
    );
    const counters = {
      received: this.datagrams.with({ door, kind }),
      accepted: this.acceptedFamily.with({ door, kind }),
      rejected: (reason: SpaDoorRejectReason) => rejected.get(reason) as CounterChild,
    };
    if (kind !== 'spa') return counters;
    const old = new Map(
      OLD_SERVER_KEY_USES.map((use) => [use, this.spaServerKeyFamily.with({ door, server_key: use })]),
    );
    return { ...counters, oldServerKey: (use) => old.get(use) as CounterChild };
  }
}

/** Throws: a part asked to count for a door the configuration does not have (a wiring bug). */
function unknownDoor(door: string): never {
  throw new RangeError(`metrics: no door named ${JSON.stringify(door)} in the configuration`);
}
