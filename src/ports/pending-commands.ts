/**
 * Where stop commands that are due later are remembered, so that a restart or a crash between a
 * door's start command and its stop command cannot leave the start command's effect in place
 * forever (with `firewall: none` nothing else would undo it). The local default is a file
 * (stores/pending-commands.ts); tests use MemoryPendingCommands.
 *
 * Contract: put() and remove() return only once the change is durable, and throw
 * (KG_STATE_WRITE_FAILED) if it could not be made durable. The caller runs a start command only
 * after put() of its stop command returned.
 */

export interface PendingCommand {
  /** Unique per record; for argv stop commands `door|source`, so an extension replaces the record. */
  readonly id: string;
  readonly door: string;
  /**
   * Which command this is: a knockd shell stop command (per family), the argv stop_command, or an
   * fwknop stanza's CMD_CYCLE_CLOSE (argv, daemon/fwknop-cmd-cycle-run.ts; one per request).
   */
  readonly which: 'stop4' | 'stop6' | 'stop_command' | 'cmd_cycle_close';
  readonly source: string;
  readonly family: 4 | 6;
  /** When it must run, wall-clock Unix milliseconds. */
  readonly dueUnixMs: number;
  /** The expanded argv, exactly as it will be run. */
  readonly argv: readonly string[];
  readonly timeoutMs: number;
}

export interface PendingCommandStore {
  /** Every record, in the order they were put. */
  list(): readonly PendingCommand[];
  /** Adds the record, or replaces the one with the same id. Durable when it returns. */
  put(record: PendingCommand): void;
  /** Removes the record with this id (nothing if absent). Durable when it returns. */
  remove(id: string): void;
}

/** In-memory store for unit tests; `failWrites` makes the next writes throw, like a full disk. */
export class MemoryPendingCommands implements PendingCommandStore {
  failWrites = false;
  private readonly records = new Map<string, PendingCommand>();
  constructor(initial: readonly PendingCommand[] = []) {
    for (const r of initial) this.records.set(r.id, r);
  }
  list(): readonly PendingCommand[] {
    return [...this.records.values()];
  }
  put(record: PendingCommand): void {
    if (this.failWrites) throw new Error('simulated write failure');
    this.records.set(record.id, record);
  }
  remove(id: string): void {
    if (this.failWrites) throw new Error('simulated write failure');
    this.records.delete(id);
  }
}
