/**
 * Which sensor of parsed packets the configuration's `sensor:` asks for (compose.ts builds it):
 * none for pcap (the captures read frames), the NFLOG group, or the kernel log with its source.
 * A source's fault after start (a read error, journalctl gone) is logged as `sensor-fault`.
 */

import type { Config } from '../config/config.js';
import type { Logger } from '../ports/logger.js';
import type { ParsedPacketSourceFactory } from '../ports/parsed-packet-source.js';
import { kernelLogSourceFactory } from '../sensors/kernel-log.js';
import { nflogSourceFactory } from '../sensors/nflog.js';

export function parsedSensorsOf(config: Config, log: Logger): ParsedPacketSourceFactory[] {
  const s = config.sensor;
  if (s.kind === 'nflog') return [nflogSourceFactory(s.group)];
  if (s.kind === 'kernel-log')
    return [
      kernelLogSourceFactory({
        prefix: s.prefix,
        source: s.source,
        interfaces: config.interfaces,
        fault: (message) => log.error({ event: 'sensor-fault', sensor: 'kernel-log', error: message }, message),
      }),
    ];
  return [];
}
