/**
 * What the configuration, with the one-time sequences now in force, asks of the kernel: the
 * firewall layout (protected, hidden and untracked ports) and what the captures must let through.
 * Pure: recomputed at start and after each one-time sequence change (Daemon.applyLayout).
 */

import { listenerOf, type Door } from '../core/door.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Config } from '../config/config.js';
import type { GateLayout, KnockLogRule } from '../ports/gate.js';

/** A door's knock steps in force (OneTimeDoors.stepsOf). */
export type StepsOf = (door: Door, doorIndex: number) => readonly Endpoint[] | null;

export function gateLayout(config: Config, stepsOf: StepsOf): GateLayout {
  const knockLog = knockLogRule(config, knockPorts(config, stepsOf));
  return {
    ...(knockLog === null ? {} : { knockLog }),
    protectedPorts: config.doors.flatMap((d) => d.open),
    hiddenPorts: config.doors.flatMap((d, i): Endpoint[] => {
      const listen = listenerOf(d);
      if (listen) return listen.capture === 'pcap' ? [{ proto: 'udp', port: listen.port }] : [];
      return d.hideKnockPorts ? [...(stepsOf(d, i) ?? [])] : [];
    }),
    untrackedUdpPorts: config.doors.flatMap((d) => {
      const listen = listenerOf(d);
      return listen?.capture === 'socket' ? [listen.port] : [];
    }),
    exemptInterfaces: config.exemptInterfaces,
  };
}

/**
 * What libpcap must capture: the knock ports with the pcap sensor; nothing with a sensor that reads
 * the firewall (no capture is opened then).
 */
export function captureSteps(config: Config, stepsOf: StepsOf): Endpoint[] {
  return config.sensor.kind === 'pcap' ? knockPorts(config, stepsOf) : [];
}

/**
 * The log rule a firewall-log sensor reads, when knockgate's table adds it (nflog always; kernel-log
 * unless log_rule: false); `interfaces: [any]` logs on every interface.
 */
export function knockLogRule(config: Config, ports: readonly Endpoint[]): KnockLogRule | null {
  const s = config.sensor;
  const interfaces = config.interfaces.includes('any') ? [] : [...config.interfaces];
  if (s.kind === 'nflog') return { to: { kind: 'nflog', group: s.group }, ports, interfaces };
  if (s.kind === 'kernel-log' && s.logRule) return { to: { kind: 'prefix', prefix: s.prefix }, ports, interfaces };
  return null;
}

/** Every knock port: knock steps in force, and the UDP ports of SPA doors read by capture. */
export function knockPorts(config: Config, stepsOf: StepsOf): Endpoint[] {
  const spa = config.doors.flatMap((d): Endpoint[] => {
    const listen = listenerOf(d);
    return listen?.capture === 'pcap' ? [{ proto: 'udp', port: listen.port }] : [];
  });
  return [...config.doors.flatMap((d, i) => stepsOf(d, i) ?? []), ...spa];
}
