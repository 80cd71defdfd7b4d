/**
 * The start-up log line of each door (`door-ready`): what kind it is, how many steps or clients,
 * where it listens, what it opens and for how long. Never a knock port nor a key: the log may be
 * read by more people than the configuration.
 */

import { listenerOf } from '../core/door.js';
import { formatEndpoint } from '../core/endpoint.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../ports/logger.js';
import type { OneTimeDoors } from './one-time-doors.js';

export function logDoorsReady(config: Config, oneTime: OneTimeDoors, log: Logger): void {
  config.doors.forEach((door, i) => {
    const steps = oneTime.stepsOf(door, i);
    const kind = door.spa ? 'spa' : door.fwknop ? 'fwknop' : 'sequence';
    const listen = listenerOf(door);
    log.info(
      {
        event: 'door-ready',
        door: door.name,
        kind,
        steps: kind === 'sequence' ? (steps?.length ?? 0) : undefined,
        one_time_remaining: oneTime.remaining(i),
        listens: listen ? `${listen.port}/udp via ${listen.capture}` : undefined,
        clients: door.spa?.clients.length ?? door.fwknop?.stanzas.length,
        opens: door.open.map(formatEndpoint),
        duration_s: door.durationS,
      },
      kind === 'sequence' && steps === null
        ? 'door has no unused one-time sequence left: it cannot open'
        : 'door ready',
    );
  });
}
