/**
 * Rung 9 of the SPA ladder (docs/protocol.md): is an authenticated, fresh, unreplayed request within
 * the client's allowance, and what exactly does it grant? Pure.
 *
 * - Ports: the request's list, each of which the client must be allowed; an empty list means all
 *   the client's allowed ports.
 * - Duration: the request's, at most the client's maximum; 0 means the door's default (capped by
 *   the client's maximum).
 * - Address: by default the packet's source, one address. Another address needs `other_address`;
 *   a prefix shorter than /32 (/128) needs `max_prefix` to allow it. A prefix is granted as its
 *   network (198.51.100.7/24 becomes 198.51.100.0/24).
 * - Binding: a client with `require_address` must name the address in the (authenticated) request;
 *   an unbound one (family 0, "the packet's source") is refused with `spa-address-required`, since
 *   whoever delivers such a datagram first, from any source, gets the grant.
 */

import { endpointKey, formatEndpoint, type Endpoint } from '../endpoint.js';
import type { Door, SpaClient } from '../door.js';
import { maskIPAddress, sameIPAddress, type IPAddressBytes } from '../ip-address.js';
import { formatAddressPrefix } from '../address-prefix.js';
import type { SpaRequest } from './native-request.js';

export type SpaGrantDecision =
  | {
      readonly ok: true;
      /** An address, or `network/prefix`. */
      readonly source: string;
      readonly family: 4 | 6;
      readonly endpoints: readonly Endpoint[];
      readonly durationS: number;
    }
  | { readonly ok: false; readonly reason: 'spa-not-allowed' | 'spa-address-required'; readonly detail: string };

const refuse = (detail: string): SpaGrantDecision => ({ ok: false, reason: 'spa-not-allowed', detail });

export function decideSpaGrant(
  door: Door,
  client: SpaClient,
  req: SpaRequest,
  packetSource: IPAddressBytes,
): SpaGrantDecision {
  const allowed = new Set(client.allow.map((e) => endpointKey(e.proto, e.port)));
  for (const e of req.ports) {
    if (!allowed.has(endpointKey(e.proto, e.port)))
      return refuse(`port ${formatEndpoint(e)} is not allowed for this client`);
  }
  const endpoints = req.ports.length > 0 ? req.ports : client.allow;

  if (req.durationS > client.maxDurationS)
    return refuse(`duration ${req.durationS}s exceeds the client's maximum of ${client.maxDurationS}s`);
  const durationS = req.durationS > 0 ? req.durationS : Math.min(door.durationS, client.maxDurationS);

  if (client.requireAddress && req.address === null) {
    return {
      ok: false,
      reason: 'spa-address-required',
      detail: 'this client must bind its request to an address (knockgate knock --allow-ip or --resolve-url)',
    };
  }
  const base: IPAddressBytes = req.address ?? packetSource;
  const full = base.family === 4 ? 32 : 128;
  const prefix = req.prefix === 0 ? full : req.prefix;
  if (prefix > full) return refuse(`prefix /${prefix} is too long for IPv${base.family}`);
  if (prefix < client.minPrefix[base.family])
    return refuse(`prefix /${prefix} is wider than the client's limit of /${client.minPrefix[base.family]}`);
  const network = maskIPAddress(base, prefix);
  const coversSource =
    base.family === packetSource.family && sameIPAddress(network, maskIPAddress(packetSource, prefix));
  if (!coversSource && !client.otherAddress)
    return refuse('the requested address is not the packet source, and this client may not ask for another');
  return { ok: true, source: formatAddressPrefix(base, prefix), family: base.family, endpoints, durationS };
}
