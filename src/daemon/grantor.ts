/**
 * Makes a grant: the gate first (a grant the firewall refused is logged and counted, and nothing
 * else happens: the port stays closed), then the grant book (daemon/grants.ts), then the door's
 * commands. Every completed knock and every accepted SPA packet ends here.
 * The operator's revoke and extend (daemon/operations.ts) change grants here too, in the same
 * order: the gate first, then the durable stop records, then the book.
 *
 * The audit trail (grant-audit.ts): every grant, extension, revocation and expiry is appended and
 * synced after the kernel holds the change (the kernel first, for the knock's latency) and before
 * it is reported (the `grant` log line, the control socket's answer, the start command). A grant
 * or extension whose record cannot be written is closed again in the kernel and off the book, its
 * stop commands run, and it is reported `failed`: fail closed, because the promise is that every
 * access the kernel gives is in the trail (the trail may then show a grant running longer than it
 * did, never one it does not show). A revocation or expiry that cannot be recorded has already
 * closed access: it is logged and counted, nothing else.
 *
 * Commands, in the order that keeps a restart from leaving a start command's effect in place:
 *   - stop_command (argv): its durable record is written first, and a first grant whose record
 *     cannot be written runs no start_command and is not booked (an extension keeps its earlier
 *     record: it runs early, never late); start_command runs on the first grant only; the stop
 *     command runs when the grant runs out (an extension moves its due time).
 *   - knockd's shell commands: every grant runs the start command and, `duration` later, the stop
 *     command, through /bin/sh with %IP% replaced, the stop command recorded durably first.
 *   - fwknop command cycles (fwknop-cmd-cycle-run.ts): every accepted request runs CMD_CYCLE_OPEN
 *     and, its timeout later, CMD_CYCLE_CLOSE (argv, no shell), the close recorded durably first;
 *     such a grant holds no ports (the gate is not asked), as fwknopd opens no rule of its own.
 */

import { randomUUID } from 'node:crypto';
import { expandTemplate } from '../core/command-template.js';
import type { Door, NatTarget } from '../core/door.js';
import { KnockgateError } from '../core/errors.js';
import { endpointKey, formatEndpoint, type Endpoint } from '../core/endpoint.js';
import type { Clock } from '../ports/clock.js';
import type { Commands } from '../ports/commands.js';
import type { Gate } from '../ports/gate.js';
import type { Logger } from '../ports/logger.js';
import type { PendingCommand } from '../ports/pending-commands.js';
import type { SpaGrant } from '../core/spa/ladder-step.js';
import type { FwknopCommand } from '../core/spa/fwknop-command-message.js';
import { runCmdCycle } from './fwknop-cmd-cycle-run.js';
import { runFwknopCommand } from './fwknop-command-run.js';
import type { GrantAudit } from './grant-audit.js';
import { type GrantBook, type GrantRecord, unionEndpoints } from './grants.js';
import type { PendingStops } from './pending-stops.js';
import type { DaemonMetrics } from '../metrics/daemon-metrics.js';

/** What a grant opens: for a sequence door the door's own ports and duration, for SPA the request's. */
export interface GrantSpec {
  readonly source: string;
  readonly family: 4 | 6;
  readonly endpoints: readonly Endpoint[];
  readonly durationS: number;
  readonly client?: string;
  /** Where the grant's traffic is forwarded (fwknop's FORCE_NAT of the stanza); else the door's `nat:`, if any. */
  readonly nat?: NatTarget;
  /** An operator's grant (`knockgate open`): who asked (as the client said) and why. */
  readonly operator?: string;
  readonly reason?: string;
  /** An fwknop stanza's command cycle, run instead of the firewall (fwknop-cmd-cycle-run.ts). */
  readonly cmdCycle?: SpaGrant['cmdCycle'];
  /** An fwknop command message: run instead of any grant (Grantor.command). */
  readonly command?: FwknopCommand;
}

/** What became of a grant request: the record as it now stands, or why there is none. */
export type GrantOutcome =
  | { readonly verdict: 'opened' | 'extended'; readonly record: GrantRecord }
  /** `audited` false: the firewall gave access, the audit trail could not record it, so it was closed again. */
  | { readonly verdict: 'failed'; readonly error: string; readonly audited?: false }
  | { readonly verdict: 'refused' | 'stopping' };

export interface GrantorDeps {
  readonly gate: Gate;
  readonly book: GrantBook;
  readonly pending: PendingStops;
  readonly commands: Commands;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: DaemonMetrics;
  readonly audit: GrantAudit;
  /** True once the daemon is stopping: a grant the gate confirms after that is not booked. */
  readonly stopped: () => boolean;
}

export class Grantor {
  constructor(private readonly deps: GrantorDeps) {}

  /** An fwknop command message (fwknop-command-run.ts): run, audited, no grant. */
  async command(door: Door, spec: GrantSpec & { readonly command: FwknopCommand }): Promise<void> {
    await runFwknopCommand(this.deps, door, spec);
  }

  async grant(door: Door, spec: GrantSpec): Promise<GrantOutcome> {
    const { gate, book, log, clock } = this.deps;
    const { source, family, durationS } = spec;
    const forward = spec.nat ?? door.forward?.nat ?? undefined;
    if (forward !== undefined && forward.family !== family) {
      // DNAT keeps the family: an IPv6 client cannot be forwarded to an IPv4 inner host.
      this.deps.metrics.grant(door.name, 'refused').inc();
      log.warn(
        { event: 'grant', door: door.name, source, verdict: 'refused', reason: 'nat-family', nat_to: forward.address },
        'not granted: the port-forward goes to an address of the other family',
      );
      return { verdict: 'refused' };
    }
    const nat = forward === undefined ? null : { to: forward.address, port: forward.port };
    if (spec.endpoints.length > 0) {
      try {
        await gate.grant({ source, family, endpoints: spec.endpoints, durationS, nat });
      } catch (err) {
        this.deps.metrics.grant(door.name, 'failed').inc();
        log.error(
          {
            event: 'grant',
            door: door.name,
            source,
            verdict: 'failed',
            reason: 'firewall-error',
            error: (err as Error).message,
          },
          'grant failed: port stays closed',
        );
        return { verdict: 'failed', error: (err as Error).message };
      }
    }
    if (this.deps.stopped()) return { verdict: 'stopping' };
    // Read after the gate answered: a grant for the same source may have been booked meanwhile.
    const existing = book.get(door.name, source);
    // A knock never shortens access: keep the later of the two ends.
    const expiresAtMs = Math.max(existing?.expiresAtMs ?? 0, clock.nowMs() + durationS * 1000);
    const id = existing?.id ?? randomUUID();
    const audited = { id, door: door.name, source, endpoints: spec.endpoints, client: spec.client ?? existing?.client };
    if (!this.deps.audit.record(existing ? 'extend' : 'grant', audited, expiresAtMs, spec)) {
      await this.closeUnrecorded(door.name, spec, existing);
      this.deps.metrics.grant(door.name, 'failed').inc();
      const failed = { event: 'grant', door: door.name, source, verdict: 'failed', reason: 'audit-failed' };
      log.error(failed, 'grant closed again: its audit record could not be written');
      const error = 'the audit record could not be written, so the grant was closed again';
      return { verdict: 'failed', error, audited: false };
    }
    this.deps.metrics.grant(door.name, existing ? 'extended' : 'opened').inc();
    const ports = spec.endpoints.map(formatEndpoint).join(',');
    log.info(
      {
        event: 'grant',
        door: door.name,
        source,
        client: spec.client,
        verdict: existing ? 'extended' : 'opened',
        ports: ports || undefined,
        duration_s: durationS,
      },
      existing ? 'grant extended' : 'grant opened',
    );
    const values = { ip: source, door: door.name, family: String(family), duration: String(durationS), ports };
    if (door.shell) this.runShell(door, family, source, durationS);
    if (
      spec.cmdCycle &&
      runCmdCycle(this.deps, door, { source, family, cmdCycle: spec.cmdCycle }) !== null &&
      !existing
    )
      return { verdict: 'refused' };
    const stopRecord: PendingCommand | null = door.stopCommand
      ? {
          id: existing?.stopCommandId ?? randomUUID(),
          door: door.name,
          which: 'stop_command',
          source,
          family,
          dueUnixMs: Math.ceil(clock.unixMs() + (expiresAtMs - clock.nowMs())),
          argv: expandTemplate(door.stopCommand, values),
          timeoutMs: door.commandTimeoutMs,
        }
      : null;
    if (stopRecord !== null && !this.deps.pending.record(stopRecord) && !existing) return { verdict: 'refused' };
    if (!existing && door.startCommand) {
      void this.deps.commands.run({
        argv: expandTemplate(door.startCommand, values),
        timeoutMs: door.commandTimeoutMs,
        context: { door: door.name, source, command: 'start' },
      });
    }
    const record = book.put(
      {
        id,
        door: door.name,
        source,
        family,
        endpoints: spec.endpoints,
        client: spec.client,
        expiresAtMs,
        stopCommandId: stopRecord?.id,
      },
      this.onExpire(stopRecord),
    );
    return { verdict: existing ? 'extended' : 'opened', record };
  }

  /**
   * Closes a grant now (`knockgate revoke`): the gate first, then the book, then its stop commands
   * run. Endpoints the same source still holds through another door's grant are granted again
   * for that grant's time left (the kernel keeps one element per source and port). If the gate
   * fails, the grant stays as it was (booked, open) and the KnockgateError is thrown. Returns the
   * record as it stood when closed, or null if it ran out meanwhile.
   */
  async revoke(target: GrantRecord, operator: string | undefined): Promise<GrantRecord | null> {
    const { gate, book, clock, log } = this.deps;
    const { door, source, family } = target;
    const closed = new Set<number>();
    let current = book.get(door, source);
    // A knock may extend it (more ports) while the gate works: loop until every endpoint is closed.
    while (current !== undefined && current.id === target.id) {
      const open = current.endpoints.filter((e) => !closed.has(endpointKey(e.proto, e.port)));
      if (open.length === 0) break;
      if (gate.enforcing) await gate.revoke({ source, family, endpoints: open });
      for (const e of open) closed.add(endpointKey(e.proto, e.port));
      current = book.get(door, source);
    }
    if (current === undefined || current.id !== target.id) return null;
    book.remove(door, source);
    this.deps.audit.record('revoke', current, null, { operator });
    this.count(door, 'revoked');
    log.info(
      { event: 'grant-revoked', door, source, client: current.client, operator },
      'grant revoked by the operator',
    );
    const stops = this.deps.pending.runFor(door, source);
    if (stops > 0)
      log.info({ event: 'grant-revoked-commands', door, source, commands: stops }, 'stop commands run now');
    await this.regrantShared(current, clock.nowMs());
    return current;
  }

  /**
   * Makes a grant run until `durationS` from now (`knockgate extend`), if that is later than it
   * runs now (extend never shortens). The gate first, then its durable stop records, then the
   * book. Returns the record as it now stands and whether it changed; null if it ran out meanwhile.
   */
  async extend(
    target: GrantRecord,
    durationS: number,
    operator: string | undefined,
  ): Promise<{ readonly record: GrantRecord; readonly changed: boolean } | null> {
    const { gate, book, clock, log, pending } = this.deps;
    const { door, source, family, endpoints } = target;
    const untilMs = clock.nowMs() + durationS * 1000;
    if (untilMs <= target.expiresAtMs) return { record: target, changed: false };
    if (gate.enforcing && endpoints.length > 0) await gate.grant({ source, family, endpoints, durationS });
    const current = book.get(door, source);
    if (current === undefined || current.id !== target.id) return null;
    if (untilMs <= current.expiresAtMs) return { record: current, changed: false };
    if (!this.deps.audit.record('extend', current, untilMs, { operator })) {
      await this.closeUnrecorded(door, { source, family, endpoints }, current);
      throw new KnockgateError(
        'KG_STATE_WRITE_FAILED',
        `the extension of grant ${current.id} could not be written to the audit trail, so the grant was closed`,
      );
    }
    const { records } = pending.moveDue(door, source, Math.ceil(clock.unixMs() + durationS * 1000));
    const stopRecord = records.find((r) => r.id === current.stopCommandId) ?? null;
    const record = book.put({ ...current, expiresAtMs: untilMs }, this.onExpire(stopRecord));
    this.count(door, 'extended');
    log.info(
      { event: 'grant', door, source, client: current.client, verdict: 'extended', duration_s: durationS, operator },
      'grant extended by the operator',
    );
    return { record, changed: true };
  }

  /** What runs when a booked grant runs out: counted, logged, its stop command run. */
  private onExpire(stopRecord: PendingCommand | null): (expired: GrantRecord) => void {
    return (expired) => {
      this.count(expired.door, 'expired');
      this.deps.audit.record('expire', expired, null);
      this.deps.log.info({ event: 'grant-expired', door: expired.door, source: expired.source }, 'grant expired');
      if (stopRecord !== null) this.deps.pending.run(stopRecord);
    };
  }

  /** What a grant adopted at start runs when it runs out (its stop command, if any, was restored on its own). */
  adoptedExpiry(): (expired: GrantRecord) => void {
    return this.onExpire(null);
  }

  /** Counted by door; a grant adopted at start may name a door this configuration no longer has. */
  private count(door: string, event: 'revoked' | 'extended' | 'expired'): void {
    if (this.deps.metrics.knowsDoor(door)) this.deps.metrics.grant(door, event).inc();
  }

  /**
   * A grant or extension the audit trail could not record: closed in the kernel (what this
   * request opened and what the grant held), taken off the book with its stop commands run now,
   * and the ports other doors still grant the source given back. If the gate refuses too, that is
   * logged: the element runs out on the kernel's clock.
   */
  private async closeUnrecorded(
    door: string,
    opened: Pick<GrantSpec, 'source' | 'family' | 'endpoints'>,
    existing: GrantRecord | undefined,
  ): Promise<void> {
    const { gate, book, log, clock } = this.deps;
    const { source, family } = opened;
    const endpoints = unionEndpoints(opened.endpoints, existing?.endpoints ?? []);
    try {
      if (gate.enforcing && endpoints.length > 0) await gate.revoke({ source, family, endpoints });
    } catch (err) {
      const failed = { event: 'grant', door, source, verdict: 'failed', error: (err as Error).message };
      log.error(failed, 'a grant the audit trail does not hold could not be closed: it runs out on the kernel clock');
    }
    if (existing !== undefined && book.get(door, source)?.id === existing.id) {
      book.remove(door, source);
      this.deps.pending.runFor(door, source);
    }
    await this.regrantShared({ source, family, endpoints }, clock.nowMs());
  }

  /** After a revoke: the endpoints other live grants of the same source hold, granted again for their time left. */
  private async regrantShared(
    revoked: Pick<GrantRecord, 'source' | 'family' | 'endpoints'>,
    nowMs: number,
  ): Promise<void> {
    if (!this.deps.gate.enforcing) return;
    const gone = new Set(revoked.endpoints.map((e) => endpointKey(e.proto, e.port)));
    for (const other of this.deps.book.list()) {
      if (other.source !== revoked.source || other.family !== revoked.family) continue;
      const shared = other.endpoints.filter((e) => gone.has(endpointKey(e.proto, e.port)));
      const leftS = Math.ceil((other.expiresAtMs - nowMs) / 1000);
      if (shared.length === 0 || leftS <= 0) continue;
      try {
        await this.deps.gate.grant({ source: other.source, family: other.family, endpoints: shared, durationS: leftS });
      } catch (err) {
        this.deps.log.error(
          { event: 'grant', door: other.door, source: other.source, verdict: 'failed', error: (err as Error).message },
          'could not keep the ports another door granted to the revoked source: they are closed',
        );
      }
    }
  }

  /**
   * knockd's way. The address comes from our own header parser and formatter; it is checked again
   * here to be nothing but hex digits, dots and colons, so no packet byte can reach the shell as
   * syntax.
   */
  private runShell(door: Door, family: 4 | 6, source: string, durationS: number): void {
    const shell = door.shell as NonNullable<Door['shell']>;
    if (!/^[0-9a-fA-F.:]{2,45}$/.test(source)) {
      this.deps.log.error(
        { event: 'command', door: door.name, source, outcome: 'refused', reason: 'address-not-plain' },
        'shell command refused',
      );
      return;
    }
    const stop = family === 4 ? shell.stop4 : shell.stop6;
    const record: PendingCommand | null =
      stop === ''
        ? null
        : {
            id: randomUUID(),
            door: door.name,
            which: family === 4 ? 'stop4' : 'stop6',
            source,
            family,
            dueUnixMs: this.deps.clock.unixMs() + durationS * 1000,
            argv: ['/bin/sh', '-c', stop.replaceAll('%IP%', source)],
            timeoutMs: door.commandTimeoutMs,
          };
    // Durable before the start command runs: no restart can then leave its effect in place.
    if (record !== null && !this.deps.pending.record(record)) return;
    const start = family === 4 ? shell.start4 : shell.start6;
    if (start !== '') {
      void this.deps.commands.run({
        argv: ['/bin/sh', '-c', start.replaceAll('%IP%', source)],
        timeoutMs: door.commandTimeoutMs,
        context: { door: door.name, source, command: 'start' },
      });
    }
    if (record !== null) this.deps.pending.schedule(record);
  }
}
