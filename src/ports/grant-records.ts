/**
 * The grant book's labels kept across a restart: for each live grant its id, door, client, source,
 * ports and start, so that grants the daemon finds in the kernel at start (Gate.install) are
 * listed, revoked and audited under the names they had. The local implementation is a JSON file
 * (stores/grant-records-file.ts); MemoryGrantRecords is the in-memory one for unit tests.
 *
 * Contract: the labels are not what security depends on: the kernel holds the grant (and its
 * expiry), the audit trail holds its record, synced before the grant was reported. So writes may
 * be coalesced and a crash may lose the last changes (a grant then comes back as door unknown);
 * a file that cannot be read is a named `problem`, never a reason not to start.
 */

export interface StoredGrant {
  readonly id: string;
  readonly door: string;
  readonly source: string;
  readonly family: 4 | 6;
  /** `22/tcp`, ... */
  readonly ports: readonly string[];
  readonly client?: string;
  readonly sinceUnixMs: number;
  readonly untilUnixMs: number;
}

export interface GrantRecordStore {
  /** What was recorded before, read when the store was opened. */
  readonly loaded: readonly StoredGrant[];
  /** Why what was recorded could not be read (it is replaced at the next write); null when it could. */
  readonly problem: string | null;
  /** The list changed: `current()` is written soon (several changes, one write). */
  changed(current: () => readonly StoredGrant[]): void;
  /** Writes a pending change now; durable when it returns. Throws KG_STATE_WRITE_FAILED. */
  flush(): void;
  /** Stops a pending timer (call flush() first to keep the last change). */
  close(): void;
}

/** In-memory store: changes are kept at once (no coalescing); `failWrites` makes them throw. */
export class MemoryGrantRecords implements GrantRecordStore {
  readonly problem: string | null = null;
  saved: readonly StoredGrant[];
  writes = 0;
  constructor(readonly loaded: readonly StoredGrant[] = []) {
    this.saved = loaded;
  }
  changed(current: () => readonly StoredGrant[]): void {
    this.saved = current();
    this.writes++;
  }
  flush(): void {}
  close(): void {}
}
