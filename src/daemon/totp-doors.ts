/**
 * Doors whose knock sequence changes with the clock (`sequence: { totp: FILE, ... }`;
 * core/totp-sequence.ts). At any time three sequences of such a door are accepted: the current
 * period's and, for one period of clock skew, the previous and the next one. Each lives in its own
 * lane of the knock tracker (core/sequence.ts), so a source's progress on one never disturbs
 * another, and a knock in progress when the period turns goes on in its lane:
 *   - a door has three lanes: tracker index = the door's own index, and two more after the
 *     configuration's doors (trackerSpecs); counter c lives in lane c mod 3, so at a turn only the
 *     lane of the counter that left the window is given the one that entered it (turn());
 *   - a completed knock burns its counter (burn()): recorded durably (ports/totp-burnt.ts) before
 *     the grant, and its lane emptied at once, so the same sequence never opens again, from that
 *     source or any other, while it would still be accepted; a counter burnt before a restart
 *     starts empty.
 * The layout (capture filter, hidden knock ports) follows every sequence of the window, burnt or
 * not (stepsOf): it changes only when the period turns, and a burnt sequence's ports stay hidden.
 * Time comes in as an argument (the daemon's Clock, unix milliseconds); nothing here reads a clock.
 */

import type { Door } from '../core/door.js';
import { endpointKey, type Endpoint } from '../core/endpoint.js';
import { TOTP_SKEW_PERIODS } from '../core/limits.js';
import type { SequenceDoorSpec, SequenceTracker } from '../core/sequence.js';
import {
  acceptedCounters,
  acceptedUntilMs,
  nextPeriodStartMs,
  totpCounter,
  totpSequence,
  type TotpParameters,
} from '../core/totp-sequence.js';
import type { Logger } from '../ports/logger.js';
import type { BurntCounterStore } from '../ports/totp-burnt.js';
import type { DaemonMetrics } from '../metrics/daemon-metrics.js';

/** Lanes per door: the current period and TOTP_SKEW_PERIODS on either side. */
const LANES = 2 * TOTP_SKEW_PERIODS + 1;

interface Lane {
  readonly trackerIndex: number;
  /** The counter whose sequence the lane holds (null before the first turn). */
  counter: number | null;
  steps: readonly Endpoint[];
  /** False once burnt: the tracker holds no steps for it. */
  live: boolean;
}

interface TotpDoor {
  readonly doorIndex: number;
  readonly door: Door;
  readonly parameters: TotpParameters;
  readonly secret: Uint8Array;
  readonly lanes: readonly Lane[];
}

export class TotpDoors {
  private readonly byDoor = new Map<number, TotpDoor>();
  /** Tracker index → the door and lane it belongs to. */
  private readonly byLane = new Map<number, { readonly totp: TotpDoor; readonly lane: Lane }>();
  private extraLanes = 0;

  constructor(
    doors: readonly Door[],
    /** Each time-based door's secret, by door index. */
    secrets: ReadonlyMap<number, Uint8Array>,
    private readonly burnt: BurntCounterStore,
    private readonly log: Logger,
    private readonly metrics: DaemonMetrics,
    nowUnixMs: number,
  ) {
    doors.forEach((door, doorIndex) => {
      if (door.totp === null) return;
      const secret = secrets.get(doorIndex);
      if (secret === undefined) throw new Error(`no secret read for time-based door ${door.name}`);
      const lanes: Lane[] = [];
      for (let slot = 0; slot < LANES; slot++) {
        const trackerIndex = slot === 0 ? doorIndex : doors.length + this.extraLanes++;
        lanes.push({ trackerIndex, counter: null, steps: [], live: false });
      }
      const totp: TotpDoor = { doorIndex, door, parameters: door.totp.parameters, secret, lanes };
      this.byDoor.set(doorIndex, totp);
      for (const lane of lanes) this.byLane.set(lane.trackerIndex, { totp, lane });
      this.fill(totp, nowUnixMs, null);
    });
  }

  /** Whether this tracker index is a lane of a time-based door. */
  has(trackerIndex: number): boolean {
    return this.byLane.has(trackerIndex);
  }

  /** The configuration's door index of a tracker index (the same index for every other door). */
  doorOf(trackerIndex: number): number {
    return this.byLane.get(trackerIndex)?.totp.doorIndex ?? trackerIndex;
  }

  /** The tracker's specs: `base` (one per door) with the lanes' steps, then the extra lanes. */
  trackerSpecs(base: readonly SequenceDoorSpec[]): SequenceDoorSpec[] {
    const specs = base.map((spec, i) => {
      const entry = this.byLane.get(i);
      return entry ? { ...spec, steps: entry.lane.live ? entry.lane.steps : null } : spec;
    });
    const extra: SequenceDoorSpec[] = new Array(this.extraLanes);
    for (const [trackerIndex, { totp, lane }] of this.byLane) {
      if (trackerIndex < base.length) continue;
      extra[trackerIndex - base.length] = {
        ...(base[totp.doorIndex] as SequenceDoorSpec),
        steps: lane.live ? lane.steps : null,
      };
    }
    return [...specs, ...extra];
  }

  /** Every step of the door's accepted sequences, burnt ones too (the layout's); null: not a time-based door. */
  stepsOf(doorIndex: number): readonly Endpoint[] | null {
    const totp = this.byDoor.get(doorIndex);
    if (totp === undefined) return null;
    const seen = new Map<number, Endpoint>();
    for (const lane of totp.lanes) for (const e of lane.steps) seen.set(endpointKey(e.proto, e.port), e);
    return [...seen.values()];
  }

  /** When the next period of some time-based door begins (unix ms); null without such doors. */
  nextTurnUnixMs(nowUnixMs: number): number | null {
    let next: number | null = null;
    for (const t of this.byDoor.values()) {
      const at = nextPeriodStartMs(nowUnixMs, t.parameters.periodMs);
      if (next === null || at < next) next = at;
    }
    return next;
  }

  /** Puts the sequences accepted at `nowUnixMs` in their lanes; true if any lane changed (the layout must follow). */
  turn(nowUnixMs: number, tracker: SequenceTracker): boolean {
    let changed = false;
    for (const totp of this.byDoor.values()) changed = this.fill(totp, nowUnixMs, tracker) || changed;
    return changed;
  }

  /**
   * A knock completed the sequence in this lane: burns it (durably) and empties the lane. False
   * (logged, counted `refused`) when no grant may be made: the counter is no longer accepted at
   * `nowUnixMs` (the period turned before the timer did), or it could not be recorded.
   */
  burn(trackerIndex: number, source: string, nowUnixMs: number, tracker: SequenceTracker): boolean {
    const entry = this.byLane.get(trackerIndex);
    if (entry === undefined) return true;
    const { totp, lane } = entry;
    const { periodMs } = totp.parameters;
    const counter = lane.counter as number;
    lane.live = false;
    tracker.replaceSteps(trackerIndex, null);
    const skew = counter - totpCounter(nowUnixMs, periodMs);
    if (!acceptedCounters(nowUnixMs, periodMs).includes(counter))
      return this.refuse(totp.door, source, 'totp-sequence-expired', `the sequence is ${skew} periods off`);
    try {
      this.burnt.burn(totp.door.name, counter, acceptedUntilMs(counter, periodMs), nowUnixMs);
    } catch (err) {
      return this.refuse(totp.door, source, 'totp-sequence-not-burnt', (err as Error).message);
    }
    this.log.info(
      { event: 'totp-sequence-burnt', door: totp.door.name, source, skew },
      'time-based sequence used; it is never accepted again',
    );
    return true;
  }

  private refuse(door: Door, source: string, reason: string, error: string): false {
    this.metrics.grant(door.name, 'refused').inc();
    this.log.error({ event: 'grant', door: door.name, source, verdict: 'refused', reason, error }, 'grant refused');
    return false;
  }

  /** Gives each counter of the window its lane; with a tracker, changes the tracker's lanes too. */
  private fill(totp: TotpDoor, nowUnixMs: number, tracker: SequenceTracker | null): boolean {
    let changed = false;
    for (const counter of acceptedCounters(nowUnixMs, totp.parameters.periodMs)) {
      const lane = totp.lanes[counter % LANES] as Lane;
      if (lane.counter === counter) continue;
      lane.counter = counter;
      lane.steps = Object.freeze(totpSequence(totp.secret, totp.parameters, counter));
      lane.live = !this.burnt.isBurnt(totp.door.name, counter);
      tracker?.replaceSteps(lane.trackerIndex, lane.live ? lane.steps : null);
      changed = true;
    }
    return changed;
  }
}
