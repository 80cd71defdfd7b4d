/**
 * The classic knock-sequence engine: per (door, source address), how far along the door's secret
 * sequence that source is, and what each new packet does to it.
 *
 * Theory of operation. A door has steps s[0..n-1] (protocol/port pairs) and a timeout T. A source
 * with no state is IDLE; after k correct steps it is AT(k), 0 < k < n. For a packet from source S
 * to a port of the door's knock set, in this order (first match wins):
 *
 *   | state  | packet                                            | outcome         | next state         |
 *   |--------|---------------------------------------------------|-----------------|--------------------|
 *   | any    | TCP whose flags fail the door's tcp_flags         | flags-mismatch  | unchanged          |
 *   | AT(k)  | now >= started + T                                | (timeout)       | IDLE, then re-read |
 *   | AT(k)  | same proto, source port, port, TCP seq as a step  | retransmission  | AT(k)              |
 *   |        | already taken in this attempt                     |                 |                    |
 *   | AT(k)  | s[k], k+1 < n                                     | progress        | AT(k+1)            |
 *   | AT(k)  | s[k], k+1 = n                                     | complete        | DONE               |
 *   | DONE   | same proto, source port, port, TCP seq as a step  | retransmission  | DONE               |
 *   |        | of the completed attempt                          |                 |                    |
 *   | DONE   | anything else                                     | (as IDLE)       | (as IDLE)          |
 *   | AT(k)  | anything else in the knock set, = s[0]            | wrong-step      | AT(1)              |
 *   | AT(k)  | anything else in the knock set                    | wrong-step      | IDLE               |
 *   | IDLE   | s[0], n > 1                                       | progress        | AT(1)              |
 *   | IDLE   | s[0], n = 1                                       | complete        | IDLE               |
 *   | IDLE   | anything else in the knock set                    | not-first-step  | IDLE               |
 *
 * A retransmission is the kernel resending a SYN that got no answer (after ~1 s, then 2 s, ...):
 * the same packet, not a new knock, so it must neither advance nor reset. It is recognised by its
 * source port and sequence number, which a new connection attempt never repeats. knockd has no
 * such rule (any packet that is not the next step ends the attempt), which breaks slow knocks
 * from clients that do not abandon their SYNs (telnet, nc, a browser).
 *
 * DONE remembers a completed attempt until its deadline, so that SYNs the kernel is still resending
 * after the last step (they are dropped, so it keeps trying) do not complete the door a second
 * time. For all other purposes DONE is IDLE. A one-step door keeps no such memory.
 *
 * Packets to ports outside a door's knock set never reach that door. A transition not in the table
 * does not exist: there is no repair of a broken sequence, only a reset. The timeout runs from the
 * first step (as knockd's Seq_Timeout) and is exact: a packet at or after the deadline never
 * advances, whether or not sweep() has run. sweep() only reclaims the memory of expired state.
 *
 * Memory is capped at `maxTracked` (door, source) entries in total. When full, a new entry evicts
 * the oldest entry that has taken only one step, and only when there is none, the oldest entry
 * further along. A flood of spoofed first knocks (cheap, and blind) thus competes only with other
 * first knocks, never with a source that has proven knowledge of two or more steps. Entries at
 * one step live in a FirstStepPool per door (O(1) per packet, ~100 bytes each), the rest in maps.
 *
 * Pure: no clock, no I/O; `nowMs` is any monotonic millisecond count the caller supplies.
 */

import { endpointKey, type Endpoint, type Protocol } from './endpoint.js';
import { FirstStepPool } from './first-step-pool.js';
import type { SequenceOutcome } from './reasons.js';
import { tcpFlagsMatch, type TcpFlagCondition } from './tcp-flags.js';

export interface SequenceDoorSpec {
  readonly name: string;
  /** null: the door has no sequence to match (one-time sequences used up). */
  readonly steps: readonly Endpoint[] | null;
  readonly timeoutMs: number;
  readonly tcpFlags: TcpFlagCondition;
  /** Only packets addressed to this IP (canonical text) count (knockd's Target). */
  readonly target?: string | null;
}

/** The parts of a captured packet the engine looks at. */
export interface KnockPacket {
  readonly family: 4 | 6;
  readonly src: string;
  /** Destination address; only looked at for doors with a target. */
  readonly dst?: string;
  readonly proto: Protocol;
  readonly sport: number;
  readonly dport: number;
  readonly tcpFlags: number;
  readonly tcpSeq: number;
}

export interface KnockEvent {
  readonly doorIndex: number;
  readonly door: string;
  readonly source: string;
  readonly family: 4 | 6;
  readonly outcome: SequenceOutcome;
  /** Steps this source has taken after this packet (0 when idle; n on completion). */
  readonly stage: number;
  readonly steps: number;
}

export interface SequenceStats {
  readonly tracked: number;
  readonly timedOut: number;
  readonly evicted: number;
}

interface Entry {
  stage: number;
  readonly deadline: number;
  /** Two numbers per step taken: fingerprintA (proto, sport, dport) and the TCP seq. */
  readonly taken: number[];
}

interface DoorState {
  spec: SequenceDoorSpec;
  stepKeys: number[];
  /** Entries at stage 1. */
  readonly fresh: FirstStepPool;
  /** Entries at stage 2 or later. */
  readonly advanced: Map<string, Entry>;
}

export class SequenceTracker {
  private readonly doors: DoorState[];
  /** endpointKey → indices of the doors whose knock set holds it. */
  private index = new Map<number, number[]>();
  private tracked = 0;
  private timedOut = 0;
  private evicted = 0;

  constructor(
    doors: readonly SequenceDoorSpec[],
    private readonly maxTracked: number,
  ) {
    if (!Number.isInteger(maxTracked) || maxTracked < 1) throw new RangeError('maxTracked must be a positive integer');
    this.doors = doors.map((spec) => ({
      spec,
      stepKeys: keysOf(spec.steps),
      fresh: new FirstStepPool(maxTracked),
      advanced: new Map(),
    }));
    this.rebuildIndex();
  }

  /** Feeds one packet; returns one event per door whose knock set holds the packet's port. */
  observe(p: KnockPacket, nowMs: number): KnockEvent[] {
    const doorIndices = this.index.get(endpointKey(p.proto, p.dport));
    if (doorIndices === undefined) return [];
    const events: KnockEvent[] = [];
    for (const d of doorIndices) {
      const target = (this.doors[d] as DoorState).spec.target;
      if (target && p.dst !== target) continue; // addressed elsewhere: not a knock on this door
      events.push(this.observeDoor(d, p, nowMs));
    }
    return events;
  }

  /** Reclaims state whose deadline has passed. Returns how many unfinished sequences timed out. */
  sweep(nowMs: number): number {
    let removed = 0;
    let timedOut = 0;
    for (const door of this.doors) {
      const n = door.stepKeys.length;
      const expired = door.fresh.removeExpired(nowMs);
      removed += expired;
      timedOut += expired;
      for (const [src, e] of door.advanced) {
        if (e.deadline <= nowMs) {
          door.advanced.delete(src);
          removed++;
          if (e.stage < n) timedOut++;
        }
      }
    }
    this.tracked -= removed;
    this.timedOut += timedOut;
    return timedOut;
  }

  /**
   * Replaces a door's sequence (one-time sequences move to the next line). All progress on that
   * door is dropped: a half-knocked old sequence must not complete the new one.
   */
  replaceSteps(doorIndex: number, steps: readonly Endpoint[] | null): void {
    const door = this.doors[doorIndex];
    if (door === undefined) throw new RangeError(`no door ${doorIndex}`);
    this.tracked -= door.fresh.clear() + door.advanced.size;
    door.advanced.clear();
    door.spec = { ...door.spec, steps };
    door.stepKeys = keysOf(steps);
    this.rebuildIndex();
  }

  /** Steps taken by `src` at a door, 0 when idle, done or expired. */
  progressOf(doorIndex: number, src: string, nowMs: number): number {
    const door = this.doors[doorIndex];
    if (door === undefined) return 0;
    const e = this.entryOf(door, src);
    return e !== undefined && e.deadline > nowMs && e.stage < door.stepKeys.length ? e.stage : 0;
  }

  stats(): SequenceStats {
    return { tracked: this.tracked, timedOut: this.timedOut, evicted: this.evicted };
  }

  private observeDoor(d: number, p: KnockPacket, nowMs: number): KnockEvent {
    const door = this.doors[d] as DoorState;
    const n = door.stepKeys.length;
    const event = (outcome: SequenceOutcome, stage: number): KnockEvent => ({
      doorIndex: d,
      door: door.spec.name,
      source: p.src,
      family: p.family,
      outcome,
      stage,
      steps: n,
    });
    if (p.proto === 'tcp' && !tcpFlagsMatch(p.tcpFlags, door.spec.tcpFlags)) {
      return event('flags-mismatch', this.progressOf(d, p.src, nowMs));
    }
    const key = endpointKey(p.proto, p.dport);
    let entry = this.entryOf(door, p.src);
    if (entry !== undefined && nowMs >= entry.deadline) {
      this.remove(door, p.src, entry);
      if (entry.stage < n) this.timedOut++;
      entry = undefined;
    }
    if (entry !== undefined) {
      if (isRetransmission(entry, p)) return event('retransmission', entry.stage === n ? 0 : entry.stage);
      if (entry.stage === n) {
        this.remove(door, p.src, entry); // DONE: a new attempt starts from IDLE
        entry = undefined;
      }
    }
    if (entry !== undefined) {
      if (door.stepKeys[entry.stage] === key) {
        const stage = this.advance(door, p, entry);
        return stage === n ? event('complete', n) : event('progress', stage); // DONE is kept until the deadline
      }
      this.remove(door, p.src, entry);
      if (door.stepKeys[0] !== key) return event('wrong-step', 0);
      this.start(door, p, nowMs);
      return event('wrong-step', 1);
    }
    if (door.stepKeys[0] !== key) return event('not-first-step', 0);
    if (n === 1) return event('complete', 1);
    this.start(door, p, nowMs);
    return event('progress', 1);
  }

  /** The state of (door, src): from the first-step pool (a view; slot set) or the advanced map. */
  private entryOf(door: DoorState, src: string): (Entry & { slot?: number }) | undefined {
    const slot = door.fresh.find(src);
    if (slot >= 0)
      return {
        stage: 1,
        deadline: door.fresh.deadline(slot),
        taken: [door.fresh.fingerprint(slot), door.fresh.seq(slot)],
        slot,
      };
    return door.advanced.get(src);
  }

  /** Takes the next step; returns the new stage. A stage-1 entry moves to the advanced map. */
  private advance(door: DoorState, p: KnockPacket, entry: Entry & { slot?: number }): number {
    if (entry.slot !== undefined) {
      door.fresh.remove(entry.slot);
      const moved: Entry = { stage: 2, deadline: entry.deadline, taken: [...entry.taken, fingerprint(p), p.tcpSeq] };
      door.advanced.set(p.src, moved);
      return moved.stage;
    }
    entry.stage++;
    entry.taken.push(fingerprint(p), p.tcpSeq);
    return entry.stage;
  }

  private start(door: DoorState, p: KnockPacket, nowMs: number): void {
    if (this.tracked >= this.maxTracked) this.evictOne();
    door.fresh.add(p.src, nowMs + door.spec.timeoutMs, fingerprint(p), p.tcpSeq);
    this.tracked++;
  }

  private remove(door: DoorState, src: string, entry: Entry & { slot?: number }): void {
    if (entry.slot !== undefined) door.fresh.remove(entry.slot);
    else door.advanced.delete(src);
    this.tracked--;
  }

  /**
   * Evicts the stage-1 entry with the earliest deadline (O(doors)); only when there is none, the
   * advanced entry with the earliest deadline (a scan, but such entries exist only for sources
   * that know two steps).
   */
  private evictOne(): void {
    let oldest: DoorState | undefined;
    let oldestDeadline = Infinity;
    for (const door of this.doors) {
      const t = door.fresh.oldestDeadline();
      if (t < oldestDeadline) {
        oldest = door;
        oldestDeadline = t;
      }
    }
    if (oldest?.fresh.evictOldest()) {
      this.tracked--;
      this.evicted++;
      return;
    }
    let victimDoor: DoorState | undefined;
    let victimSrc = '';
    let victimDeadline = Infinity;
    for (const door of this.doors) {
      for (const [src, e] of door.advanced) {
        if (e.deadline < victimDeadline) {
          victimDoor = door;
          victimSrc = src;
          victimDeadline = e.deadline;
        }
      }
    }
    if (victimDoor !== undefined) {
      victimDoor.advanced.delete(victimSrc);
      this.tracked--;
      this.evicted++;
    }
  }

  private rebuildIndex(): void {
    const index = new Map<number, number[]>();
    this.doors.forEach((door, d) => {
      for (const key of new Set(door.stepKeys)) {
        const list = index.get(key);
        if (list) list.push(d);
        else index.set(key, [d]);
      }
    });
    this.index = index;
  }
}

function keysOf(steps: readonly Endpoint[] | null): number[] {
  return steps === null ? [] : steps.map((s) => endpointKey(s.proto, s.port));
}

/** Protocol, source port and destination port in one exact number (< 2^33). */
function fingerprint(p: KnockPacket): number {
  return (p.proto === 'udp' ? 2 ** 32 : 0) + p.sport * 65_536 + p.dport;
}

function isRetransmission(entry: Entry, p: KnockPacket): boolean {
  const fp = fingerprint(p);
  for (let i = 0; i < entry.taken.length; i += 2) {
    if (entry.taken[i] === fp && entry.taken[i + 1] === p.tcpSeq) return true;
  }
  return false;
}
