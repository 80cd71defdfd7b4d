/**
 * Rung 5 of an fwknop door, fwknopd's semantics: what an access message (types 1 and 3) may open.
 *   - The address: with REQUIRE_SOURCE_ADDRESS it must be the packet's source (0.0.0.0 is refused);
 *     without, 0.0.0.0 means the packet's source, and any other address is granted as named (the
 *     client may know its NAT address better than the packet does), as fwknopd does.
 *   - The ports: none in RESTRICT_PORTS, all in OPEN_PORTS when that is set, all protected by this
 *     door unless the stanza has a command cycle (which opens nothing of the door's; fwknopd checks
 *     no ports at all for such a stanza, knockgate still checks OPEN_PORTS and RESTRICT_PORTS).
 *   - The duration: the stanza's FW_ACCESS_TIMEOUT; for type 3, the client's timeout capped by
 *     MAX_FW_TIMEOUT and the door's maximum; whole seconds, at least 1.
 * Pure.
 */

import type { Door, FwknopStanza } from '../door.js';
import { endpointKey, formatEndpoint, type Endpoint } from '../endpoint.js';
import { parseIPAddress, sameIPAddress, type IPAddressBytes } from '../ip-address.js';
import { FWKNOP_MESSAGE_TYPE, parseFwknopAccess, type FwknopMessage } from './fwknop-wire.js';

export type FwknopAccessDecision =
  | {
      readonly ok: true;
      readonly address: IPAddressBytes;
      readonly endpoints: readonly Endpoint[];
      readonly durationS: number;
    }
  | {
      readonly ok: false;
      readonly reason: 'fwknop-malformed' | 'fwknop-not-allowed' | 'fwknop-command-not-allowed';
      readonly detail: string;
    };

const refuse = (detail: string): FwknopAccessDecision => ({ ok: false, reason: 'fwknop-not-allowed', detail });

/** `door` must be an fwknop door; `source`: the packet's source address. */
export function decideFwknopAccess(
  door: Door,
  stanza: FwknopStanza,
  message: FwknopMessage,
  source: IPAddressBytes,
): FwknopAccessDecision {
  const access = parseFwknopAccess(message.message);
  if (access === null) return { ok: false, reason: 'fwknop-malformed', detail: 'access message' };
  const fw = door.fwknop as NonNullable<Door['fwknop']>;
  const asked = parseIPAddress(access.address);
  if (asked === null) return refuse(`address ${JSON.stringify(access.address)}`);
  const unspecified = asked.bytes.every((b) => b === 0);
  if (stanza.requireSourceAddress && (unspecified || !sameIPAddress(asked, source)))
    return refuse('REQUIRE_SOURCE_ADDRESS: the packet must name its own source address');
  const address = unspecified ? source : asked;
  const protectedKeys = new Set(door.open.map((e) => endpointKey(e.proto, e.port)));
  const openKeys = stanza.openPorts ? new Set(stanza.openPorts.map((e) => endpointKey(e.proto, e.port))) : null;
  const restricted = new Set(stanza.restrictPorts.map((e) => endpointKey(e.proto, e.port)));
  for (const e of access.ports) {
    const k = endpointKey(e.proto, e.port);
    if (restricted.has(k)) return refuse(`${formatEndpoint(e)} is in RESTRICT_PORTS`);
    if (openKeys !== null && !openKeys.has(k)) return refuse(`${formatEndpoint(e)} is not in OPEN_PORTS`);
    // A command cycle opens nothing of the door's: its commands get the port as $PORT.
    if (!stanza.cmdCycle && !protectedKeys.has(k)) return refuse(`${formatEndpoint(e)} is not a port this door opens`);
  }
  let durationS = stanza.accessTimeoutS;
  if (
    message.messageType === FWKNOP_MESSAGE_TYPE.clientTimeoutAccess &&
    message.clientTimeout !== null &&
    message.clientTimeout > 0
  ) {
    durationS = Math.min(message.clientTimeout, stanza.maxTimeoutS ?? fw.maxDurationS, fw.maxDurationS);
  }
  return { ok: true, address, endpoints: access.ports, durationS: Math.max(1, Math.floor(durationS)) };
}
