/**
 * Rungs 3 and 4 of an fwknop door, on a message a stanza opened: freshness (±window, fwknopd's
 * 120 s by default; core/freshness.ts, shared with native SPA), ACCESS_EXPIRE (expired once the
 * wall clock is past it: at the second itself the stanza still serves), REQUIRE_USERNAME (exact),
 * and the message type: access (1) and client-timeout access (3) go on; NAT (2, 4, 5, 6) and
 * command (0) messages are refused by name. Pure: the time is an argument (Unix ms).
 */

import type { FwknopStanza } from '../door.js';
import { checkFreshness, describeSkew } from '../freshness.js';
import type { FwknopRejectReason } from '../reasons.js';
import { ladderReject, type LadderReject } from './ladder-step.js';
import { FWKNOP_MESSAGE_TYPE, type FwknopMessage } from './fwknop-wire.js';

const MESSAGE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'command',
  2: 'NAT access',
  4: 'client-timeout NAT access',
  5: 'local NAT access',
  6: 'client-timeout local NAT access',
};

/** The refusal, or null when the message may go on to the access policy. */
export function fwknopMessageRefusal(
  stanza: FwknopStanza,
  message: FwknopMessage,
  unixMs: number,
  freshnessMs: number,
): LadderReject<FwknopRejectReason> | null {
  const who = stanza.origin;
  const freshness = checkFreshness(message.timestamp * 1000, unixMs, freshnessMs);
  if (!freshness.fresh) return ladderReject('fwknop-stale', who, describeSkew(freshness.skewMs));
  if (stanza.expiresAtS !== null && unixMs / 1000 > stanza.expiresAtS) return ladderReject('fwknop-expired', who);
  if (stanza.requireUsername !== null && message.username !== stanza.requireUsername) {
    return ladderReject('fwknop-username', who, `user ${JSON.stringify(message.username)}`);
  }
  const type = message.messageType;
  if (type !== FWKNOP_MESSAGE_TYPE.access && type !== FWKNOP_MESSAGE_TYPE.clientTimeoutAccess) {
    return ladderReject(
      'fwknop-message-type',
      who,
      `${MESSAGE_TYPE_NAMES[type] ?? `type ${type}`} messages are not supported by this door`,
    );
  }
  return null;
}
