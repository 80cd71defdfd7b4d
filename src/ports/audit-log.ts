/**
 * The audit trail: one record per grant, extension, expiry and revocation, kept apart from the
 * decision log, for the operator who asks later "who held access, from where, until when, and who
 * decided". The local implementation is a JSON-lines file (stores/audit-file.ts); MemoryAuditLog
 * below is the in-memory one the daemon's unit tests run on.
 *
 * Contract: append() returns only once the record is durable (written whole and synced) and throws
 * (KG_STATE_WRITE_FAILED) when it could not be made durable; a record is in the trail exactly once
 * (a rotation or a reopen never repeats or drops one). reopen() starts a new file at the configured
 * path after an outside rotation (logrotate's move or create): records appended before it are in
 * the old file, those after it in the new one.
 */

/**
 * What happened to a grant; `command` and `command-exit`: an fwknop command message, recorded
 * before it runs (it runs only once that is durable) and with its exit status once it ended.
 */
export const AUDIT_EVENTS = ['grant', 'extend', 'expire', 'revoke', 'command', 'command-exit'] as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

/** How an operator's name is known: the control socket is root's only, and the client says who it runs for. */
export const OPERATOR_CLAIM = 'claimed by a root client';

/** One line of the trail. Times are ISO 8601 UTC, wall clock. */
export interface AuditRecord {
  /** When it happened. */
  readonly time: string;
  readonly event: AuditEvent;
  /** The grant's id (what `knockgate grants` and `revoke` name); extensions, expiry and revocation keep it. */
  readonly grant: string;
  /** The nftables table (one daemon per table), so that several daemons' trails can be told apart. */
  readonly table: string;
  readonly door: string;
  /** An address, or ADDRESS/PREFIX. */
  readonly source: string;
  /** `22/tcp`, ...; empty for a door that only runs commands. */
  readonly ports: readonly string[];
  /** The SPA client or fwknop stanza, `operator:NAME` for an operator's open; null for a knock sequence. */
  readonly client: string | null;
  /** Until when access runs after this event; null for expire and revoke (it has ended). */
  readonly until: string | null;
  /** An operator's action: who (as the client reported it) and on what basis that name is known. */
  readonly operator?: string;
  readonly operator_basis?: typeof OPERATOR_CLAIM;
  /** The operator's reason (`knockgate open --reason`). */
  readonly reason?: string;
  /** An fwknop command message: the command as the client sent it, and as whom it runs. */
  readonly command?: string;
  readonly run_as?: string;
  /** command-exit: how it ended (exit_code null: killed by `signal`, or never started: `error`). */
  readonly exit_code?: number | null;
  readonly signal?: string | null;
  readonly timed_out?: boolean;
  readonly error?: string;
}

export interface AuditLog {
  /** Where it is written, for the log; null for the in-memory one. */
  readonly path: string | null;
  /** Durable when it returns; throws when it could not be made durable. */
  append(record: AuditRecord): void;
  /** Closes the file and opens the configured path again (creating it): after an outside rotation. */
  reopen(): void;
  close(): void;
}

/** In-memory trail for unit tests; `failWrites` makes appends throw, like a full disk. */
export class MemoryAuditLog implements AuditLog {
  readonly path = null;
  failWrites = false;
  reopens = 0;
  readonly records: AuditRecord[] = [];
  append(record: AuditRecord): void {
    if (this.failWrites) throw new Error('simulated audit write failure');
    this.records.push(record);
  }
  reopen(): void {
    this.reopens++;
  }
  close(): void {}
}
