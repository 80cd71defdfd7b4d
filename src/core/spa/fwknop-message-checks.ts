/**
 * Rungs 3 and 4 of an fwknop door, on a message a stanza opened: freshness (±window, fwknopd's
 * 120 s by default; core/freshness.ts, shared with native SPA), ACCESS_EXPIRE (expired once the
 * wall clock is past it: at the second itself the stanza still serves), REQUIRE_USERNAME (exact),
 * and the message type: access (1) and client-timeout access (3) go on, command (0) messages only
 * for a stanza with ENABLE_CMD_EXEC and no command cycle; NAT (2, 4, 5, 6) and other command
 * messages are refused by name. Pure: the time is an argument (Unix ms).
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
  // Command messages only where the stanza enables them, and never beside a command cycle.
  const command = type === FWKNOP_MESSAGE_TYPE.command && (stanza.cmdExec ?? null) !== null && !stanza.cmdCycle;
  if (type !== FWKNOP_MESSAGE_TYPE.access && type !== FWKNOP_MESSAGE_TYPE.clientTimeoutAccess && !command) {
    return ladderReject(
      'fwknop-message-type',
      who,
      type === FWKNOP_MESSAGE_TYPE.command
        ? 'command messages are not enabled for this stanza (ENABLE_CMD_EXEC)'
        : `${MESSAGE_TYPE_NAMES[type] ?? `type ${type}`} messages are not supported by this door`,
    );
  }
  return null;
}
