/**
 * Compiles `sensor:`: how knocks are seen. The rules that span it and the doors:
 *   - kernel-log: a LOG line carries no payload, so an SPA or fwknop door cannot be read from it;
 *     such a door must read its own socket (`capture: socket`), else it is an error;
 *   - kernel-log's prefix defaults to `<nft_table>: `, so that two daemons (two tables) never
 *     read each other's lines;
 *   - with `firewall: none` knockgate has no table to add a log rule to: a warning says the
 *     operator's ruleset must log the knock ports itself;
 *   - kernel-log with `log_rule: false` and hidden knock ports: a warning that the operator's LOG
 *     rule must run before knockgate's input chain (priority -10), which drops those ports;
 *   - a followed file: a warning that its lines are trusted as the kernel's, which the file alone
 *     cannot prove (a local process may write lines of facility kern through syslog).
 */

import type { Door } from '../../core/door.js';
import { listenerOf } from '../../core/door.js';
import type { SensorConfig } from '../config.js';
import type { CompileContext } from './context.js';
import { doorPath } from './door-common.js';

export function compileSensor(ctx: CompileContext, doors: readonly Door[]): SensorConfig {
  const raw = ctx.raw.sensor;
  const sensor = sensorOf(ctx, raw);
  const logged =
    ctx.raw.firewall === 'none' && (sensor.kind === 'nflog' || (sensor.kind === 'kernel-log' && sensor.logRule));
  if (logged)
    ctx.warnings.push(
      sensor.kind === 'nflog'
        ? `sensor nflog with firewall: none: knockgate adds no log rule; your own ruleset must send the knock ports to "log group ${sensor.group}"`
        : `sensor kernel-log with firewall: none: knockgate adds no log rule; your own ruleset must log the knock ports with prefix ${JSON.stringify(sensor.prefix)}`,
    );
  if (sensor.kind !== 'kernel-log') return sensor;
  doors.forEach((door, i) => {
    const listen = listenerOf(door);
    if (listen?.capture === 'pcap')
      ctx.fail(
        doorPath(i, door.spa !== null ? 'spa' : 'fwknop', 'capture'),
        'the kernel-log sensor sees no payload (log lines carry none), so it cannot read SPA; give this door its own socket with "capture: socket", or use sensor nflog or pcap',
      );
  });
  if (!sensor.logRule && ctx.raw.firewall === 'nftables' && doors.some((d) => d.hideKnockPorts))
    ctx.warnings.push(
      `sensor kernel-log with log_rule: false: your LOG rule for the knock ports must run before knockgate's input chain (priority -10, e.g. in a chain at priority -20 or in prerouting), which drops the hidden knock ports`,
    );
  if (sensor.source.kind === 'file')
    ctx.warnings.push(
      `sensor kernel-log reads ${sensor.source.path}: its lines are trusted as the kernel's; /dev/kmsg (source: kmsg) or the journal tell the kernel's lines from a process's`,
    );
  return sensor;
}

function sensorOf(ctx: CompileContext, raw: CompileContext['raw']['sensor']): SensorConfig {
  const defaultPrefix = `${ctx.raw.nft_table}: `;
  if (raw === 'pcap') return { kind: 'pcap' };
  if (raw === 'kernel-log')
    return { kind: 'kernel-log', prefix: defaultPrefix, source: { kind: 'kmsg' }, logRule: true };
  if ('nflog' in raw) return { kind: 'nflog', group: raw.nflog.group };
  const k = raw['kernel-log'];
  const source =
    typeof k.source === 'string'
      ? { kind: k.source }
      : ({ kind: 'file', path: ctx.resolvePath(k.source.file) } as const);
  return Object.freeze({ kind: 'kernel-log', prefix: k.prefix ?? defaultPrefix, source, logRule: k.log_rule });
}
