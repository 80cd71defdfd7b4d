/**
 * What the configuration, with the one-time sequences now in force, asks of the kernel: the
 * firewall layout (protected, forwarded, hidden and untracked ports, port-forwards) and what the captures must let through.
 * Pure: recomputed at start and after each one-time sequence change (Daemon.applyLayout).
 */

import { listenerOf, type Door, type NatTarget } from '../core/door.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Config } from '../config/config.js';
import type { GateLayout, KnockLogRule, NatForward } from '../ports/gate.js';

/** A door's knock steps in force (OneTimeDoors.stepsOf). */
export type StepsOf = (door: Door, doorIndex: number) => readonly Endpoint[] | null;

export function gateLayout(config: Config, stepsOf: StepsOf): GateLayout {
  const knockLog = knockLogRule(config, knockPorts(config, stepsOf));
  return {
    ...(knockLog === null ? {} : { knockLog }),
    protectedPorts: config.doors.flatMap((d) => (d.forward ? [] : d.open)),
    // A fwknop door whose stanzas forward (FORCE_NAT) guards its ports on both paths: each grant
    // goes one way or the other, as its stanza says.
    forwardedPorts: config.doors.flatMap((d) => (d.forward || stanzaForwards(d).length > 0 ? d.open : [])),
    natForwards: config.doors.flatMap(natForwardsOf),
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
 * The port-forwards a door can make: with `nat:`, each opened port to the inner address; for a
 * fwknop door, each FORCE_NAT stanza's ports (OPEN_PORTS, else the door's) to its inner host.
 */
function natForwardsOf(door: Door): NatForward[] {
  const targets: { nat: NatTarget; ports: readonly Endpoint[] }[] = stanzaForwards(door);
  if (door.forward?.nat) targets.push({ nat: door.forward.nat, ports: door.open });
  return targets.flatMap(({ nat, ports }) =>
    ports.map((from) => ({
      from,
      family: nat.family,
      to: nat.address,
      toPort: nat.port ?? from.port,
      masquerade: nat.masquerade,
      snatTo: nat.snatTo ?? null,
    })),
  );
}

function stanzaForwards(door: Door): { nat: NatTarget; ports: readonly Endpoint[] }[] {
  return (door.fwknop?.stanzas ?? []).flatMap((s) =>
    s.forceNat ? [{ nat: s.forceNat, ports: s.openPorts ?? door.open }] : [],
  );
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
