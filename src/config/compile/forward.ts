/**
 * A door's forward-path settings (`hook: forward`, `nat:`), with their rules: `hook: forward`
 * needs a gate that guards the forward path (nftables or iptables), `nat:` the nftables gate (the
 * only one that makes port-forwards); both need ports to guard; `nat` forwards to one IP address,
 * and names a port only when the door opens one (with several, each goes on at its own number);
 * `hook: input` and `nat` contradict each other.
 */

import type { ForwardSettings } from '../../core/door.js';
import { formatIPAddress, parseIPAddress } from '../../core/ip-address.js';
import type { RawDoor } from '../schema.js';
import type { CompileContext } from './context.js';
import { doorPath } from './door-common.js';
import { doorPathOf } from './door-registry.js';

export function compileForward(ctx: CompileContext, d: RawDoor, i: number): ForwardSettings | null {
  if (doorPathOf(d) === 'input') return null;
  if (d.nat !== undefined && ctx.raw.firewall !== 'nftables')
    ctx.fail(
      doorPath(i, 'nat'),
      `nat: (a port-forward) needs firewall: nftables (this file has firewall: ${ctx.raw.firewall}${ctx.raw.firewall === 'iptables' ? ', which guards hook: forward but makes no port-forwards' : ''})`,
    );
  if (ctx.raw.firewall === 'none')
    ctx.fail(
      doorPath(i, 'hook'),
      'the forward path needs firewall: nftables or iptables (this file has firewall: none)',
    );
  if (d.hook === 'input' && d.nat !== undefined)
    ctx.fail(doorPath(i, 'hook'), 'a door with nat: forwards its traffic; leave hook out or set it to forward');
  if (d.open.length === 0) ctx.fail(doorPath(i, 'open'), 'a forward-path door must open at least one port');
  if (d.nat === undefined) return Object.freeze({ nat: null });
  const parsed = parseIPAddress(d.nat.to);
  if (parsed === null)
    ctx.fail(doorPath(i, 'nat', 'to'), `expected an IP address (the inner host), got ${JSON.stringify(d.nat.to)}`);
  if (d.nat.port !== undefined && d.open.length > 1)
    ctx.fail(
      doorPath(i, 'nat', 'port'),
      `the door opens ${d.open.length} ports; with several, leave nat.port out and each is forwarded to the same port of ${d.nat.to}`,
    );
  return Object.freeze({
    nat: Object.freeze({
      address: formatIPAddress(parsed),
      family: parsed.family,
      port: d.nat.port ?? null,
      masquerade: d.nat.masquerade,
    }),
  });
}
