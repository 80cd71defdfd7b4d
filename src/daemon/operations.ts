/**
 * What an operator can ask a running daemon through the control socket (control/protocol.ts):
 * status, the grants, revoke, extend, open, reload. It reads the grant book (the single source of truth)
 * and changes grants only through the grantor, so a revoked or extended grant behaves in every
 * respect (gate, book, stop commands, metrics, log) like one that ran out or was knocked again.
 *
 * Errors are KnockgateErrors the control socket answers with: KG_NO_MATCH when nothing matches
 * what was named, KG_USAGE for a request that cannot be carried out as asked (an unknown port of
 * the door, a bad address), the gate's own error when the firewall refuses.
 */

import { formatAddressPrefix, parseAddressPrefix } from '../core/address-prefix.js';
import type { Door } from '../core/door.js';
import { type Endpoint, endpointKey, formatEndpoint, parseEndpoint } from '../core/endpoint.js';
import { KnockgateError } from '../core/errors.js';
import { type GrantSelector, parseGrantSelector, selectsGrant } from '../core/grant-selector.js';
import type {
  ControlRequest,
  DoorView,
  ExtendResult,
  GrantView,
  OpenResult,
  ReloadResult,
  RevokeResult,
  SelectorInput,
  StatusReport,
} from '../control/protocol.js';
import type { Config } from '../config/config.js';
import type { Clock } from '../ports/clock.js';
import type { Gate } from '../ports/gate.js';
import type { Logger } from '../ports/logger.js';
import type { ReplayStore } from '../ports/replay-store.js';
import { VERSION } from '../version.js';
import type { GrantRecord, GrantBook } from './grants.js';
import type { Grantor } from './grantor.js';
import type { PendingStops } from './pending-stops.js';

export interface OperationsDeps {
  /** The configuration in force (a reload replaces it). */
  readonly config: () => Config;
  readonly clock: Clock;
  readonly log: Logger;
  readonly gate: Gate;
  readonly book: GrantBook;
  readonly grantor: Grantor;
  readonly pending: PendingStops;
  readonly replay: ReplayStore | null;
  /** The sensors open now (captures, sockets' names, parsed-packet sources). */
  readonly sensors: () => readonly string[];
  /** The figures of the stats line. */
  readonly counters: () => Readonly<Record<string, number>>;
  /** Reads the configuration again and applies it, or rejects with why not (Daemon.reloadFromSource). */
  readonly reload: () => Promise<ReloadResult>;
}

export class Operations {
  private readonly startedMs: number;

  constructor(private readonly deps: OperationsDeps) {
    this.startedMs = deps.clock.nowMs();
  }

  /** Answers one checked control request. */
  async handle(request: ControlRequest): Promise<unknown> {
    switch (request.op) {
      case 'status':
        return this.status();
      case 'grants':
        return this.grants();
      case 'revoke':
        return this.revoke(request.select, request.operator);
      case 'extend':
        return this.extend(request.select, request.duration_s, request.operator);
      case 'open':
        return this.open(request);
      case 'reload':
        this.deps.log.info(
          { event: 'reload-asked', operator: request.operator },
          'reload asked through the control socket',
        );
        return this.reload();
    }
  }

  /** The daemon's reload; a refusal says that nothing changed, keeping the error's code (and exit status). */
  private async reload(): Promise<ReloadResult> {
    try {
      return await this.deps.reload();
    } catch (err) {
      const code = err instanceof KnockgateError ? err.code : 'KG_RELOAD_REFUSED';
      const message = `not applied, knockgated runs on the configuration it had: ${(err as Error).message}`;
      throw new KnockgateError(code, message);
    }
  }

  status(): StatusReport {
    const { clock, gate, book, replay } = this.deps;
    const config = this.deps.config();
    const live = book.list();
    return {
      version: VERSION,
      pid: process.pid,
      uptime_s: Math.floor((clock.nowMs() - this.startedMs) / 1000),
      config: config.file,
      table: config.nftTable,
      firewall: { kind: gate.kind, enforcing: gate.enforcing, transport: gate.transport ?? null },
      interfaces: config.interfaces,
      sensors: this.deps.sensors(),
      doors: config.doors.map((d) => doorView(d, live.filter((g) => g.door === d.name).length)),
      grants_active: live.length,
      pending_stop_commands: this.deps.pending.size(),
      replay: replay === null ? null : { entries: replay.size, capacity: replay.capacity },
      counters: this.deps.counters(),
    };
  }

  grants(): GrantView[] {
    return this.deps.book.list().map((g) => this.view(g));
  }

  async revoke(input: SelectorInput, operator: string | undefined): Promise<RevokeResult> {
    const revoked: GrantView[] = [];
    for (const target of this.select(input)) {
      const closed = await this.deps.grantor.revoke(target, operator);
      if (closed !== null) revoked.push({ ...this.view(closed), remaining_s: 0 });
    }
    return { revoked };
  }

  async extend(input: SelectorInput, durationS: number, operator: string | undefined): Promise<ExtendResult> {
    const extended: GrantView[] = [];
    const unchanged: GrantView[] = [];
    for (const target of this.select(input)) {
      const r = await this.deps.grantor.extend(target, durationS, operator);
      if (r !== null) (r.changed ? extended : unchanged).push(this.view(r.record));
    }
    return { extended, unchanged };
  }

  /** An operator's grant: the door's ports (or those named, each one the door protects) for the door's duration (or the one named). */
  async open(request: Extract<ControlRequest, { op: 'open' }>): Promise<OpenResult> {
    const doors = this.deps.config().doors;
    const door = doors.find((d) => d.name === request.door);
    if (door === undefined)
      throw new KnockgateError(
        'KG_NO_MATCH',
        `no door named ${JSON.stringify(request.door)}; doors: ${doors.map((d) => d.name).join(', ')}`,
      );
    const network = parseAddressPrefix(request.source);
    if ('error' in network) throw new KnockgateError('KG_USAGE', `address: ${network.error}`);
    const source = formatAddressPrefix(network.address, network.prefix);
    const endpoints = request.ports === undefined ? door.open : portsOf(door, request.ports);
    const durationS = request.duration_s ?? door.durationS;
    const operator = request.operator ?? 'unknown';
    this.deps.log.info(
      { event: 'operator-open', door: door.name, source, operator, reason: request.reason, duration_s: durationS },
      'grant asked for by the operator',
    );
    const outcome = await this.deps.grantor.grant(door, {
      source,
      family: network.address.family,
      endpoints,
      durationS,
      client: `operator:${operator}`,
      operator,
      reason: request.reason,
    });
    if (outcome.verdict === 'opened' || outcome.verdict === 'extended')
      return { verdict: outcome.verdict, grant: this.view(outcome.record) };
    if (outcome.verdict === 'failed')
      throw new KnockgateError(
        outcome.audited === false ? 'KG_STATE_WRITE_FAILED' : 'KG_FIREWALL_FAILED',
        outcome.error,
      );
    if (outcome.verdict === 'refused')
      throw new KnockgateError(
        'KG_STATE_WRITE_FAILED',
        'the stop command could not be recorded durably, so nothing was opened',
      );
    throw new KnockgateError('KG_CONTROL_UNAVAILABLE', 'knockgated is stopping');
  }

  private select(input: SelectorInput): GrantRecord[] {
    const selector: GrantSelector | { error: string } = parseGrantSelector(input);
    if ('error' in selector) throw new KnockgateError('KG_USAGE', selector.error);
    const chosen = this.deps.book.list().filter((g) => selectsGrant(selector, g));
    if (chosen.length === 0) throw new KnockgateError('KG_NO_MATCH', 'no live grant matches');
    if (selector.id !== undefined && chosen.length > 1)
      throw new KnockgateError('KG_USAGE', `grant id ${selector.id} is ambiguous: give more of it`);
    return chosen;
  }

  private view(g: GrantRecord): GrantView {
    const { clock } = this.deps;
    const leftMs = Math.max(0, g.expiresAtMs - clock.nowMs());
    return {
      id: g.id,
      door: g.door,
      source: g.source,
      family: g.family,
      ports: g.endpoints.map(formatEndpoint),
      client: g.client ?? null,
      since: new Date(g.sinceUnixMs).toISOString(),
      until: new Date(clock.unixMs() + leftMs).toISOString(),
      remaining_s: Math.ceil(leftMs / 1000),
    };
  }
}

function doorView(d: Door, grants: number): DoorView {
  const listen = d.spa ?? d.fwknop;
  return {
    name: d.name,
    kind: d.spa
      ? 'spa'
      : d.fwknop
        ? 'fwknop'
        : d.oneTimeSequencesFile
          ? 'one-time'
          : d.totp
            ? 'time-based'
            : 'sequence',
    listen: listen ? { port: listen.port, capture: listen.capture } : null,
    opens: d.open.map(formatEndpoint),
    duration_s: d.durationS,
    grants,
  };
}

function portsOf(door: Door, ports: readonly string[]): Endpoint[] {
  const protectedKeys = new Set(door.open.map((e) => endpointKey(e.proto, e.port)));
  return ports.map((p) => {
    const e = parseEndpoint(p);
    if ('error' in e) throw new KnockgateError('KG_USAGE', `ports: ${e.error}`);
    if (!protectedKeys.has(endpointKey(e.proto, e.port)))
      throw new KnockgateError(
        'KG_USAGE',
        `door ${door.name} does not open ${formatEndpoint(e)}; it opens ${door.open.map(formatEndpoint).join(', ') || 'no ports'}`,
      );
    return e;
  });
}
