/**
 * Key rotation: what to tell the operator about the previous server key's overlap at a given
 * instant (at start, and in `knockgated --check`). Ended: packets under the previous key are
 * refused (`spa-retired-key`) and the key should be removed from the configuration; ending within
 * a day: a reminder that clients not yet re-issued will soon be refused; otherwise, when it ends.
 *
 * No clock of its own: both instants are arguments (wall-clock Unix ms); the caller logs or prints
 * the result.
 */

import { formatIsoTime } from '../config/iso-time.js';
import { PREVIOUS_KEY_REMINDER_MS } from '../core/limits.js';

export interface OverlapNotice {
  readonly state: 'open' | 'ending' | 'ended';
  /** warn when it has ended or ends within PREVIOUS_KEY_REMINDER_MS. */
  readonly level: 'info' | 'warn';
  /** One sentence for the operator; `until` in ISO 8601 UTC. */
  readonly message: string;
}

export function overlapNotice(untilUnixMs: number, nowUnixMs: number): OverlapNotice {
  const until = formatIsoTime(untilUnixMs);
  const left = untilUnixMs - nowUnixMs;
  if (left <= 0)
    return {
      state: 'ended',
      level: 'warn',
      message: `the previous server key's overlap ended at ${until}: packets made for it are refused (spa-retired-key); re-issue any client still using it, then remove previous_server_key and previous_key_until from the spa: section`,
    };
  const hours = Math.max(1, Math.round(left / 3_600_000));
  if (left <= PREVIOUS_KEY_REMINDER_MS)
    return {
      state: 'ending',
      level: 'warn',
      message: `the previous server key is accepted until ${until} (in about ${hours} h): clients not re-issued by then will be refused (spa-retired-key)`,
    };
  return {
    state: 'open',
    level: 'info',
    message: `the previous server key is accepted until ${until} (in ${Math.floor(left / 86_400_000)} d ${Math.floor((left % 86_400_000) / 3_600_000)} h)`,
  };
}
