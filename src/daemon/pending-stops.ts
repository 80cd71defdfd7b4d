/**
 * Stop commands that are due later (a door's stop_command, knockd's stop shell commands), kept in
 * the pending commands store (ports/pending-commands.ts) so that no restart or crash between a
 * start command and its stop command leaves the start command's effect in place.
 *
 * What must hold: a record is durable before the start command it undoes runs (record() false:
 * the caller must not run it); a record is removed only after its command ran (whatever its exit;
 * one refused before it started stays and runs at the next start); at start, overdue records run
 * at once and the others at their due wall-clock time.
 */

import type { Clock, Timer } from '../ports/clock.js';
import type { Commands } from '../ports/commands.js';
import type { Logger } from '../ports/logger.js';
import type { PendingCommand, PendingCommandStore } from '../ports/pending-commands.js';
import type { DaemonMetrics } from '../metrics/daemon-metrics.js';

export class PendingStops {
  /** Timers of the records scheduled here, by record id. */
  private readonly timers = new Map<string, Timer>();

  constructor(
    /** null when no door has a stop command and no file was left from before (nothing to keep). */
    private readonly store: PendingCommandStore | null,
    private readonly commands: Commands,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly metrics: DaemonMetrics,
  ) {}

  /** Records kept in the store now (0 without a store). */
  size(): number {
    return this.store?.list().length ?? 0;
  }

  /** At start: runs the overdue records and schedules the others. */
  restore(): void {
    if (this.store === null) return;
    const now = this.clock.unixMs();
    for (const record of this.store.list()) {
      const overdue = record.dueUnixMs <= now;
      this.log.info(
        {
          event: 'pending-command-restored',
          door: record.door,
          source: record.source,
          command: record.which,
          overdue,
          due_in_s: overdue ? 0 : Math.ceil((record.dueUnixMs - now) / 1000),
        },
        overdue
          ? 'overdue stop command from before the restart: running it now'
          : 'stop command from before the restart scheduled',
      );
      this.schedule(record);
    }
  }

  /** Makes `record` durable; false (logged and counted, the start command must not run) if it could not. */
  record(record: PendingCommand): boolean {
    try {
      if (this.store === null) throw new Error('no pending stop commands store is open');
      this.store.put(record);
      return true;
    } catch (err) {
      this.metrics.commandRefused(record.door).inc();
      this.log.error(
        {
          event: 'command',
          door: record.door,
          source: record.source,
          command: 'start',
          outcome: 'refused',
          reason: 'stop-command-not-recorded',
          error: (err as Error).message,
        },
        'start command refused: its stop command could not be recorded durably',
      );
      return false;
    }
  }

  /** Runs `record` at its due wall-clock time (at once if overdue). */
  schedule(record: PendingCommand): void {
    this.timers.get(record.id)?.cancel();
    this.timers.set(
      record.id,
      this.clock.after(record.dueUnixMs - this.clock.unixMs(), () => this.run(record)),
    );
  }

  /** Runs a pending stop command now, then removes its record. */
  run(record: PendingCommand): void {
    this.timers.get(record.id)?.cancel();
    this.timers.delete(record.id);
    void this.commands
      .run({
        argv: record.argv,
        timeoutMs: record.timeoutMs,
        context: { door: record.door, source: record.source, command: 'stop' },
      })
      .then((r) => {
        if (r.error === 'queue-full') return; // never started: the record stays and runs at the next start
        try {
          this.store?.remove(record.id);
        } catch (err) {
          this.log.error(
            {
              event: 'pending-command-not-removed',
              door: record.door,
              source: record.source,
              error: (err as Error).message,
            },
            'stop command ran but its record could not be removed: it will run again at the next start',
          );
        }
      });
  }

  /** The records kept for the grant of `door` to `source` (its stop_command, knockd's stop commands). */
  recordsOf(door: string, source: string): readonly PendingCommand[] {
    return (this.store?.list() ?? []).filter((r) => r.door === door && r.source === source);
  }

  /** Runs now every record of the grant of `door` to `source` (a revoked grant's stop commands). */
  runFor(door: string, source: string): number {
    const records = this.recordsOf(door, source);
    for (const r of records) this.run(r);
    return records.length;
  }

  /**
   * Moves every record of the grant of `door` to `source` to `dueUnixMs` (an extended grant): each
   * written durably first, then rescheduled if it was scheduled here. Returns the records as they
   * now stand; false if one could not be written (it then keeps its earlier due time: it runs
   * early, never late).
   */
  moveDue(door: string, source: string, dueUnixMs: number): { records: PendingCommand[]; written: boolean } {
    const records: PendingCommand[] = [];
    let written = true;
    for (const old of this.recordsOf(door, source)) {
      const moved = { ...old, dueUnixMs };
      try {
        this.store?.put(moved);
      } catch (err) {
        written = false;
        records.push(old);
        this.log.error(
          { event: 'pending-command-not-moved', door, source, command: old.which, error: (err as Error).message },
          'stop command could not be moved to the new end of its grant: it runs at the earlier time',
        );
        continue;
      }
      records.push(moved);
      if (this.timers.has(old.id)) this.schedule(moved);
    }
    return { records, written };
  }

  /** At stop: no timer fires any more; the records stay in the store for the next start. */
  cancelAll(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }
}
