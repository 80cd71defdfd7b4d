/**
 * Compiles a knock-sequence door (a fixed `sequence` or a `one_time_sequences` file).
 *
 * Contract: the SPA-only keys are errors here; exactly one of sequence and one_time_sequences; no
 * knock step may be a port some door opens (a knock would then also be protected traffic) or a
 * door's SPA port. Defaults: sequence_timeout DEFAULT_SEQUENCE_TIMEOUT_MS, tcp_flags syn,!ack,
 * hide_knock_ports true.
 */

import type { Door } from '../../core/door.js';
import { endpointKey, formatEndpoint } from '../../core/endpoint.js';
import { DEFAULT_SEQUENCE_TIMEOUT_MS } from '../../core/limits.js';
import { DEFAULT_TCP_FLAGS, parseTcpFlags, type TcpFlagCondition } from '../../core/tcp-flags.js';
import type { RawDoor } from '../schema.js';
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
  d.sequence?.forEach((step, s) => {
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
    sequence: d.sequence ? Object.freeze(d.sequence.map((e) => Object.freeze(e))) : null,
    oneTimeSequencesFile: d.one_time_sequences ? ctx.resolvePath(d.one_time_sequences) : null,
    sequenceTimeoutMs: d.sequence_timeout ?? DEFAULT_SEQUENCE_TIMEOUT_MS,
    tcpFlags: Object.freeze(d.tcp_flags ?? (parseTcpFlags(DEFAULT_TCP_FLAGS) as TcpFlagCondition)),
    hideKnockPorts: d.hide_knock_ports ?? true,
  });
}

/** The knock fields of a door that is not a knock door (SPA, fwknop): no sequence, nothing hidden. */
export function noKnockFields(): Pick<
  Door,
  'sequence' | 'oneTimeSequencesFile' | 'sequenceTimeoutMs' | 'tcpFlags' | 'hideKnockPorts'
> {
  return {
    sequence: null,
    oneTimeSequencesFile: null,
    sequenceTimeoutMs: 0,
    tcpFlags: parseTcpFlags(DEFAULT_TCP_FLAGS) as TcpFlagCondition,
    hideKnockPorts: false,
  };
}
