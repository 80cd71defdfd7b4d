/**
 * What the configuration, with the one-time sequences now in force, asks of the kernel: the
 * firewall layout (protected, forwarded, hidden and untracked ports, port-forwards) and what the captures must let through.
 * Pure: recomputed at start and after each one-time sequence change (Daemon.applyLayout).
 */

import { listenerOf, type Door } from '../core/door.js';
import type { Endpoint } from '../core/endpoint.js';
import type { Config } from '../config/config.js';
import type { GateLayout, NatForward } from '../ports/gate.js';

/** A door's knock steps in force (OneTimeDoors.stepsOf). */
export type StepsOf = (door: Door, doorIndex: number) => readonly Endpoint[] | null;

export function gateLayout(config: Config, stepsOf: StepsOf): GateLayout {
  return {
    protectedPorts: config.doors.flatMap((d) => (d.forward ? [] : d.open)),
    forwardedPorts: config.doors.flatMap((d) => (d.forward ? d.open : [])),
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

/** The port-forwards of a door with `nat:`: each opened port goes on to the inner address. */
function natForwardsOf(door: Door): NatForward[] {
  const nat = door.forward?.nat;
  if (!nat) return [];
  return door.open.map((from) => ({
    from,
    family: nat.family,
    to: nat.address,
    toPort: nat.port ?? from.port,
    masquerade: nat.masquerade,
  }));
}

/** Everything the captures must let through: knock steps, and the UDP ports of SPA doors read by capture. */
export function captureSteps(config: Config, stepsOf: StepsOf): Endpoint[] {
  const spa = config.doors.flatMap((d): Endpoint[] => {
    const listen = listenerOf(d);
    return listen?.capture === 'pcap' ? [{ proto: 'udp', port: listen.port }] : [];
  });
  return [...config.doors.flatMap((d, i) => stepsOf(d, i) ?? []), ...spa];
}
