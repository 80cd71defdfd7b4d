/**
 * Compiles a knock-sequence door (a fixed `sequence`, a time-based `sequence: { totp: ... }` or a
 * `one_time_sequences` file).
 *
 * Contract: the SPA-only keys are errors here; exactly one of sequence and one_time_sequences; no
 * knock step may be a port some door opens (a knock would then also be protected traffic) or a
 * door's SPA port, and neither may lie in a time-based door's range (any port of it may become a
 * step); that range holds at least `steps` endpoints. Defaults: sequence_timeout
 * DEFAULT_SEQUENCE_TIMEOUT_MS, tcp_flags syn,!ack, hide_knock_ports true.
 */

import type { Door } from '../../core/door.js';
import { endpointKey, formatEndpoint } from '../../core/endpoint.js';
import { DEFAULT_SEQUENCE_TIMEOUT_MS } from '../../core/limits.js';
import { DEFAULT_TCP_FLAGS, parseTcpFlags, type TcpFlagCondition } from '../../core/tcp-flags.js';
import type { TotpDoorSettings } from '../../core/door.js';
import { totpSpaceSize } from '../../core/totp-sequence.js';
import type { RawDoor, RawTotpSequence } from '../schema.js';
import type { CompileContext, ConfigPath } from './context.js';
import { doorPath, type DoorCommon } from './door-common.js';

export function compileKnockDoor(ctx: CompileContext, d: RawDoor, i: number, common: DoorCommon): Door {
  const { fail } = ctx;
  const at = (...key: ConfigPath): ConfigPath => doorPath(i, ...key);
  for (const key of ['clients', 'max_duration'] as const) {
    if (d[key] !== undefined) fail(at(key), 'only for SPA doors; this is a knock-sequence door');
  }
  if ((d.sequence === undefined) === (d.one_time_sequences === undefined)) {
    fail(at(), 'give exactly one of "sequence", "one_time_sequences" and "spa"');
  }
  const fixed = Array.isArray(d.sequence) ? d.sequence : undefined;
  const totp = d.sequence !== undefined && !Array.isArray(d.sequence) ? d.sequence : undefined;
  fixed?.forEach((step, s) => {
    const owner = ctx.openedBy.get(endpointKey(step.proto, step.port));
    if (owner !== undefined) {
      fail(
        at('sequence', s),
        `${formatEndpoint(step)} is a port that door ${JSON.stringify(owner)} opens; a knock port must not be a protected port`,
      );
    }
    const spaOwner = step.proto === 'udp' ? ctx.spaPortOf.get(step.port) : undefined;
    if (spaOwner !== undefined)
      fail(at('sequence', s), `${formatEndpoint(step)} is the SPA port of door ${JSON.stringify(spaOwner)}`);
  });
  return Object.freeze({
    ...common,
    spa: null,
    fwknop: null,
    sequence: fixed ? Object.freeze(fixed.map((e) => Object.freeze(e))) : null,
    oneTimeSequencesFile: d.one_time_sequences ? ctx.resolvePath(d.one_time_sequences) : null,
    totp: totp ? compileTotp(ctx, d.name, totp, at) : null,
    sequenceTimeoutMs: d.sequence_timeout ?? DEFAULT_SEQUENCE_TIMEOUT_MS,
    tcpFlags: Object.freeze(d.tcp_flags ?? (parseTcpFlags(DEFAULT_TCP_FLAGS) as TcpFlagCondition)),
    hideKnockPorts: d.hide_knock_ports ?? true,
  });
}

/** A time-based sequence's settings; the range must hold the steps and no protected or SPA port. */
function compileTotp(
  ctx: CompileContext,
  name: string,
  t: RawTotpSequence,
  at: (...key: ConfigPath) => ConfigPath,
): TotpDoorSettings {
  const { low, high } = t.ports;
  const parameters = Object.freeze({ door: name, steps: t.steps, periodMs: t.period, low, high, protocol: t.protocol });
  if (totpSpaceSize(parameters) < t.steps)
    ctx.fail(
      at('sequence', 'ports'),
      `${low}-${high} holds ${totpSpaceSize(parameters)} ${t.protocol} endpoints, fewer than the ${t.steps} steps`,
    );
  const inRange = (proto: 'tcp' | 'udp', port: number): boolean =>
    (t.protocol === 'mixed' || t.protocol === proto) && port >= low && port <= high;
  const refuse = (what: string): never => ctx.fail(at('sequence', 'ports'), `the range ${low}-${high} holds ${what}`);
  for (const [key, owner] of ctx.openedBy) {
    const proto = key >= 65_536 ? 'udp' : 'tcp';
    if (inRange(proto, key % 65_536))
      refuse(
        `${key % 65_536}/${proto}, a port that door ${JSON.stringify(owner)} opens; a knock port must not be a protected port`,
      );
  }
  for (const [port, owner] of ctx.spaPortOf)
    if (inRange('udp', port)) refuse(`${port}/udp, the SPA port of door ${JSON.stringify(owner)}`);
  return Object.freeze({ secretFile: ctx.resolvePath(t.totp), parameters });
}

/** The knock fields of a door that is not a knock door (SPA, fwknop): no sequence, nothing hidden. */
export function noKnockFields(): Pick<
  Door,
  'sequence' | 'oneTimeSequencesFile' | 'totp' | 'sequenceTimeoutMs' | 'tcpFlags' | 'hideKnockPorts'
> {
  return {
    sequence: null,
    oneTimeSequencesFile: null,
    totp: null,
    sequenceTimeoutMs: 0,
    tcpFlags: parseTcpFlags(DEFAULT_TCP_FLAGS) as TcpFlagCondition,
    hideKnockPorts: false,
  };
}
