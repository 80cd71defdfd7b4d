/**
 * Doors whose knock sequence is used once (`one_time_sequences:` files). When a knock completes
 * one, burn() burns it durably and puts the next one in force in the knock tracker, synchronously,
 * before the next packet is looked at: a sequence must be burnt before it buys a grant, and a
 * burnt one must not be accepted again. What else changes with it (the capture filter and the
 * hidden knock ports in the firewall) is the caller's explicit next step, taken outside the packet
 * callback (Daemon.applyLayout).
 */

import type { Door } from '../core/door.js';
import type { Endpoint } from '../core/endpoint.js';
import type { SequenceTracker } from '../core/sequence.js';
import type { Logger } from '../ports/logger.js';
import type { OneTimeSequenceStore } from '../ports/one-time-sequences.js';
import type { DaemonMetrics } from '../metrics/daemon-metrics.js';

export class OneTimeDoors {
  constructor(
    /** By door index. */
    private readonly stores: ReadonlyMap<number, OneTimeSequenceStore>,
    private readonly log: Logger,
    private readonly metrics: DaemonMetrics,
  ) {}

  has(doorIndex: number): boolean {
    return this.stores.has(doorIndex);
  }

  /** Unused sequences left at this door; undefined for a door without a one-time file. */
  remaining(doorIndex: number): number | undefined {
    return this.stores.get(doorIndex)?.remaining();
  }

  /** The knock steps in force at a door: its fixed sequence, or its current one-time sequence (null: none left, or not a sequence door). */
  stepsOf(door: Door, doorIndex: number): readonly Endpoint[] | null {
    if (door.sequence !== null) return door.sequence;
    return this.stores.get(doorIndex)?.current()?.steps ?? null;
  }

  /**
   * Burns the sequence a knock just completed at this door and puts the next in force in
   * `tracker`. False (logged, counted `grants_refused`) if it could not be burnt: no grant then.
   */
  burn(doorIndex: number, door: Door, source: string, tracker: SequenceTracker): boolean {
    const store = this.stores.get(doorIndex);
    if (store === undefined) return true;
    let burnt = true;
    const seq = store.current();
    try {
      if (seq === null) throw new Error('no sequence in force');
      store.markUsed(seq);
    } catch (err) {
      burnt = false;
      this.metrics.grant(door.name, 'refused').inc();
      this.log.error(
        {
          event: 'grant',
          door: door.name,
          source,
          verdict: 'refused',
          reason: 'one-time-sequence-not-burnt',
          error: (err as Error).message,
        },
        'grant refused',
      );
    }
    const next = this.stepsOf(door, doorIndex);
    tracker.replaceSteps(doorIndex, next);
    if (next === null)
      this.log.warn(
        { event: 'door-exhausted', door: door.name },
        'last one-time sequence used: the door cannot open until the file has new lines and knockgated restarts',
      );
    else
      this.log.info(
        { event: 'one-time-sequence-advanced', door: door.name, remaining: store.remaining() },
        'next one-time sequence in force',
      );
    return burnt;
  }
}
