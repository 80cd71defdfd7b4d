/**
 * The grantor's side of the audit trail (ports/audit-log.ts): turns a grant event into its record
 * (wall-clock ISO times, the ports as `22/tcp`, the operator and on what basis the name is known)
 * and appends it. A failure is loud: an error log line (`audit-failed`, naming the file and the
 * grant) and knockgate_audit_write_failures_total; the caller decides what the grant becomes
 * (grantor.ts: a grant or extension that cannot be recorded is closed again).
 */

import { formatEndpoint, type Endpoint } from '../core/endpoint.js';
import type { CounterChild } from '../ports/metrics.js';
import { type AuditEvent, type AuditLog, type AuditRecord, OPERATOR_CLAIM } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';

/** What a record names of a grant. */
export interface AuditedGrant {
  readonly id: string;
  readonly door: string;
  readonly source: string;
  readonly endpoints: readonly Endpoint[];
  readonly client?: string;
}

export interface OperatorAction {
  /** The operator as the control client reported them. */
  readonly operator?: string;
  readonly reason?: string;
  /** An fwknop command message's fields (fwknop-command-run.ts). */
  readonly commandFields?: Pick<AuditRecord, 'command' | 'run_as' | 'exit_code' | 'signal' | 'timed_out' | 'error'>;
}

export class GrantAudit {
  constructor(
    private readonly audit: AuditLog | null,
    private readonly table: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly failures: CounterChild,
  ) {}

  /**
   * Appends the record of `event`; true once it is durable (or there is no trail). `untilMs` is
   * monotonic (the grant book's clock), null when access has ended.
   */
  record(event: AuditEvent, g: AuditedGrant, untilMs: number | null, action: OperatorAction = {}): boolean {
    if (this.audit === null) return true;
    const now = this.clock.unixMs();
    const until = untilMs === null ? null : new Date(now + Math.max(0, untilMs - this.clock.nowMs())).toISOString();
    try {
      this.audit.append({
        time: new Date(now).toISOString(),
        event,
        grant: g.id,
        table: this.table,
        door: g.door,
        source: g.source,
        ports: g.endpoints.map(formatEndpoint),
        client: g.client ?? null,
        until,
        ...(action.operator !== undefined ? { operator: action.operator, operator_basis: OPERATOR_CLAIM } : {}),
        ...(action.reason !== undefined ? { reason: action.reason } : {}),
        ...action.commandFields,
      });
      return true;
    } catch (err) {
      this.failures.inc();
      this.log.error(
        {
          event: 'audit-failed',
          audit: this.audit.path,
          grant_event: event,
          grant: g.id,
          door: g.door,
          source: g.source,
          error: (err as Error).message,
        },
        'could not write the audit record',
      );
      return false;
    }
  }

  reopen(): void {
    if (this.audit === null) return;
    try {
      this.audit.reopen();
      this.log.info({ event: 'audit-reopened', audit: this.audit.path }, 'audit trail reopened');
    } catch (err) {
      this.failures.inc();
      const failed = { event: 'audit-failed', audit: this.audit.path, error: (err as Error).message };
      this.log.error(failed, 'could not reopen the audit trail (the next record tries again)');
    }
  }
}
