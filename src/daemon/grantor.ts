/**
 * Makes a grant: the gate first (a grant the firewall refused is logged and counted, and nothing
 * else happens: the port stays closed), then the grant book (daemon/grants.ts), then the door's
 * commands. Every completed knock and every accepted SPA packet ends here.
 *
 * Commands, in the order that keeps a restart from leaving a start command's effect in place:
 *   - stop_command (argv): its durable record is written first, and a first grant whose record
 *     cannot be written runs no start_command and is not booked (an extension keeps its earlier
 *     record: it runs early, never late); start_command runs on the first grant only; the stop
 *     command runs when the grant runs out (an extension moves its due time).
 *   - knockd's shell commands: every grant runs the start command and, `duration` later, the stop
 *     command, through /bin/sh with %IP% replaced, the stop command recorded durably first.
 */

import { randomUUID } from 'node:crypto';
import { expandTemplate } from '../core/command-template.js';
import type { Door } from '../core/door.js';
import { formatEndpoint, type Endpoint } from '../core/endpoint.js';
import type { Clock } from '../ports/clock.js';
import type { Commands } from '../ports/commands.js';
import type { Gate } from '../ports/gate.js';
import type { Logger } from '../ports/logger.js';
import type { PendingCommand } from '../ports/pending-commands.js';
import type { GrantBook } from './grants.js';
import type { PendingStops } from './pending-stops.js';
import type { DaemonMetrics } from '../metrics/daemon-metrics.js';

/** What a grant opens: for a sequence door the door's own ports and duration, for SPA the request's. */
export interface GrantSpec {
  readonly source: string;
  readonly family: 4 | 6;
  readonly endpoints: readonly Endpoint[];
  readonly durationS: number;
  readonly client?: string;
}

export interface GrantorDeps {
  readonly gate: Gate;
  readonly book: GrantBook;
  readonly pending: PendingStops;
  readonly commands: Commands;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: DaemonMetrics;
  /** True once the daemon is stopping: a grant the gate confirms after that is not booked. */
  readonly stopped: () => boolean;
}

export class Grantor {
  constructor(private readonly deps: GrantorDeps) {}

  async grant(door: Door, spec: GrantSpec): Promise<void> {
    const { gate, book, log, clock } = this.deps;
    const { source, family, durationS } = spec;
    if (spec.endpoints.length > 0) {
      try {
        await gate.grant({ source, family, endpoints: spec.endpoints, durationS });
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
        return;
      }
    }
    if (this.deps.stopped()) return;
    // Read after the gate answered: a grant for the same source may have been booked meanwhile.
    const existing = book.get(door.name, source);
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
    // A knock never shortens access: keep the later of the two ends.
    const expiresAtMs = Math.max(existing?.expiresAtMs ?? 0, clock.nowMs() + durationS * 1000);
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
    if (stopRecord !== null && !this.deps.pending.record(stopRecord) && !existing) return;
    if (!existing && door.startCommand) {
      void this.deps.commands.run({
        argv: expandTemplate(door.startCommand, values),
        timeoutMs: door.commandTimeoutMs,
        context: { door: door.name, source, command: 'start' },
      });
    }
    book.put(
      {
        door: door.name,
        source,
        family,
        endpoints: spec.endpoints,
        client: spec.client,
        expiresAtMs,
        stopCommandId: stopRecord?.id,
      },
      () => {
        this.deps.metrics.grant(door.name, 'expired').inc();
        log.info({ event: 'grant-expired', door: door.name, source }, 'grant expired');
        if (stopRecord !== null) this.deps.pending.run(stopRecord);
      },
    );
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
