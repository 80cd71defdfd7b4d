/**
 * The part of a door that every kind shares (name, open ports, duration, commands, target), with
 * the rules that hold for every kind: what the firewall setting requires of "open" and of the
 * commands, argv and shell commands not mixed, a target that is an IP address, no port listed
 * twice.
 *
 * Contract: checks run in the order written here (the first failure is the one reported, so a
 * file with several mistakes is fixed top to bottom); the result is frozen where it is shared.
 */

import type { Door } from '../../core/door.js';
import { endpointKey, formatEndpoint } from '../../core/endpoint.js';
import { formatIPAddress, parseIPAddress, type IPAddressBytes } from '../../core/ip-address.js';
import type { RawDoor } from '../schema.js';
import type { CompileContext, ConfigPath } from './context.js';

/** The fields of Door that do not depend on the door's kind. */
export type DoorCommon = Pick<
  Door,
  'name' | 'open' | 'durationS' | 'startCommand' | 'stopCommand' | 'commandTimeoutMs' | 'shell' | 'target'
>;

/** A path inside door `i`. */
export const doorPath = (i: number, ...key: ConfigPath): ConfigPath => ['doors', i, ...key];

export function compileDoorCommon(ctx: CompileContext, d: RawDoor, i: number): DoorCommon {
  const { raw, fail } = ctx;
  const at = (...key: ConfigPath): ConfigPath => doorPath(i, ...key);
  if (raw.firewall !== 'none' && d.open.length === 0)
    fail(at('open'), `with firewall: ${raw.firewall} a door must open at least one port`);
  const hasShell =
    d.start_shell !== undefined ||
    d.start_shell_6 !== undefined ||
    d.stop_shell !== undefined ||
    d.stop_shell_6 !== undefined;
  if (hasShell && (d.start_command !== undefined || d.stop_command !== undefined)) {
    fail(
      at(d.start_command !== undefined ? 'start_command' : 'stop_command'),
      'give argv commands (start_command/stop_command) or shell commands (start_shell/stop_shell), not both',
    );
  }
  // A fwknop door's stanzas may run command cycles instead: fwknop-door.ts checks that.
  if (raw.firewall === 'none' && d.start_command === undefined && !hasShell && d.fwknop === undefined)
    fail(at('start_command'), 'with firewall: none a door must have a start_command, or it does nothing');
  let target: string | null = null;
  if (d.target !== undefined) {
    const parsed = parseIPAddress(d.target);
    if (parsed === null) fail(at('target'), `expected an IP address, got ${JSON.stringify(d.target)}`);
    target = formatIPAddress(parsed as IPAddressBytes);
  }
  // knockd's rule: a missing IPv6 command falls back to the IPv4 one.
  const shell = hasShell
    ? Object.freeze({
        start4: d.start_shell ?? '',
        start6: d.start_shell_6 ?? d.start_shell ?? '',
        stop4: d.stop_shell ?? '',
        stop6: d.stop_shell_6 ?? d.stop_shell ?? '',
      })
    : null;
  if (raw.firewall === 'none' && d.open.length > 0)
    fail(at('open'), 'with firewall: none nothing can be opened; remove "open" or choose firewall: nftables');
  const seen = new Set<number>();
  d.open.forEach((e, s) => {
    const k = endpointKey(e.proto, e.port);
    if (seen.has(k)) fail(at('open', s), `${formatEndpoint(e)} is listed twice`);
    seen.add(k);
  });
  return {
    name: d.name,
    open: Object.freeze(d.open.map((e) => Object.freeze(e))),
    durationS: d.duration / 1000,
    startCommand: d.start_command ? Object.freeze([...d.start_command]) : null,
    stopCommand: d.stop_command ? Object.freeze([...d.stop_command]) : null,
    commandTimeoutMs: d.command_timeout,
    shell,
    target,
  };
}

/** The longest grant of an SPA or fwknop door: max_duration, else duration; never shorter than duration. */
export function doorMaxDurationS(ctx: CompileContext, d: RawDoor, i: number): number {
  const doorMaxS = (d.max_duration ?? d.duration) / 1000;
  if (doorMaxS < d.duration / 1000) ctx.fail(doorPath(i, 'max_duration'), 'must not be shorter than duration');
  return doorMaxS;
}
