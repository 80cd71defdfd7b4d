/**
 * The start-up log line of each door (`door-ready`): what kind it is, how many steps or clients,
 * where it listens, what it opens and for how long. Never a knock port nor a key: the log may be
 * read by more people than the configuration. Also, with key rotation configured, the line that
 * says until when the previous server key is accepted (`previous-server-key`; a warning when it
 * ends within a day or has ended, logged again when that happens while the daemon runs).
 */

import { listenerOf } from '../core/door.js';
import { keyFingerprint } from '../core/spa/key-fingerprint.js';
import { rawPublicOf, x25519PrivateFromRaw } from '../core/spa/keys.js';
import { formatEndpoint } from '../core/endpoint.js';
import type { Config } from '../config/config.js';
import { formatIsoTime } from '../config/iso-time.js';
import { type OverlapNotice, overlapNotice } from './key-overlap.js';
import type { Clock, Timer } from '../ports/clock.js';
import { KEY_OVERLAP_CHECK_MS } from '../core/limits.js';
import type { Logger } from '../ports/logger.js';
import type { OneTimeDoors } from './one-time-doors.js';

/**
 * `serverKey`: the server's X25519 private key; SPA doors' lines carry its public key's
 * fingerprint, the one `knockgate knock -v` prints for a credential, to compare by eye.
 */
export function logDoorsReady(config: Config, oneTime: OneTimeDoors, log: Logger, serverKey: Uint8Array | null): void {
  const fingerprint = serverKey === null ? undefined : keyFingerprint(rawPublicOf(x25519PrivateFromRaw(serverKey)));
  config.doors.forEach((door, i) => {
    const totp = door.totp?.parameters;
    const steps = totp ? Array.from({ length: totp.steps }) : oneTime.stepsOf(door, i);
    const kind = door.spa ? 'spa' : door.fwknop ? 'fwknop' : totp ? 'time-based' : 'sequence';
    const listen = listenerOf(door);
    log.info(
      {
        event: 'door-ready',
        door: door.name,
        kind,
        steps: kind === 'sequence' || totp ? (steps?.length ?? 0) : undefined,
        period_s: totp ? totp.periodMs / 1000 : undefined,
        one_time_remaining: oneTime.remaining(i),
        listens: listen ? `${listen.port}/udp via ${listen.capture}` : undefined,
        clients: door.spa?.clients.length ?? door.fwknop?.stanzas.length,
        server_key: door.spa ? fingerprint : undefined,
        opens: door.open.map(formatEndpoint),
        duration_s: door.durationS,
      },
      kind === 'sequence' && steps === null
        ? 'door has no unused one-time sequence left: it cannot open'
        : 'door ready',
    );
  });
}

/**
 * The `previous-server-key` line now, and again each time the overlap's state changes while the
 * daemon runs (checked every KEY_OVERLAP_CHECK_MS: the last day begins, the overlap ends). Nothing
 * without spa.previous_server_key or without a native SPA door. Returns the timer, or null.
 * A reload passes the timer of the configuration it replaces, and the new one decides afresh.
 */
export function logKeyOverlap(
  config: Config,
  clock: Pick<Clock, 'unixMs' | 'every'>,
  log: Logger,
  /** The watch of the configuration a reload replaces: cancelled here. */
  replaced: Timer | null = null,
): Timer | null {
  replaced?.cancel();
  const until = config.spa?.previousKeyUntilMs ?? null;
  if (until === null || !config.doors.some((d) => d.spa !== null)) return null;
  let last: OverlapNotice['state'] | null = null;
  const report = (): void => {
    const n = overlapNotice(until, clock.unixMs());
    if (n.state === last) return;
    last = n.state;
    const fields = { event: 'previous-server-key', state: n.state, until: formatIsoTime(until) };
    if (n.level === 'warn') log.warn(fields, n.message);
    else log.info(fields, n.message);
  };
  report();
  return last === 'ended' ? null : clock.every(KEY_OVERLAP_CHECK_MS, report);
}
