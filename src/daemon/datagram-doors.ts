/**
 * The doors that take datagrams (native SPA, fwknop), each behind one handler (spa-handler.ts,
 * fwknop-handler.ts): built here from the configuration, the server's private key and the replay
 * store, sharing what must be shared across doors (the flood budgets, the sources that proved a
 * key lately, the log limiter, the counters) and ending in the daemon's one grant path.
 */

import { listenerOf, type Door } from '../core/door.js';
import {
  DEFAULT_SPA_FRESHNESS_S,
  FWKNOP_UNPROVEN_HMACS_BURST,
  FWKNOP_UNPROVEN_HMACS_PER_S,
  FWKNOP_UNPROVEN_GPG_BURST,
  FWKNOP_UNPROVEN_GPG_PER_S,
  MAX_CONCURRENT_GPG,
  KNOWN_SPA_SOURCE_TTL_MS,
  MAX_KNOWN_SPA_SOURCES,
  SPA_UNPROVEN_WORK_BURST,
  SPA_UNPROVEN_WORK_PER_S,
} from '../core/limits.js';
import { KnownSources } from '../core/known-sources.js';
import { type PreviousServerKeys, serverKeysFromPrivate } from '../core/spa/native-door-keys.js';
import { WorkBudget } from '../core/work-budget.js';
import type { Config } from '../config/config.js';
import type { Clock } from '../ports/clock.js';
import type { DaemonMetrics } from '../metrics/daemon-metrics.js';
import type { Logger } from '../ports/logger.js';
import type { ReplayStore } from '../ports/replay-store.js';
import { FwknopHandler, type FwknopHandlerDeps } from './fwknop-handler.js';
import type { GpgDecrypter } from '../ports/gpg-decrypter.js';
import type { LogLimiter } from './log-limiter.js';
import { SpaHandler, type SpaGrant } from './spa-handler.js';

/** A door that takes datagrams, where they arrive, and who handles them. */
export interface DatagramDoor {
  readonly door: Door;
  readonly port: number;
  /** `socket`: a UDP socket of its own; `pcap`: taken from the captures, by UDP port. */
  readonly capture: 'socket' | 'pcap';
  readonly handler: { handle(payload: Uint8Array, source: string, destination?: string): void };
}

export interface DatagramDoorDeps {
  readonly config: Config;
  /** The server's X25519 private key; required when a door is native SPA. */
  readonly serverKey: Uint8Array | null;
  /** Key rotation: the previous server key (its overlap ends at config.spa.previousKeyUntilMs). */
  readonly previousServerKey?: Uint8Array | null;
  /** Required when any door takes datagrams. */
  readonly replay: ReplayStore | null;
  readonly clock: Clock;
  readonly log: Logger;
  readonly limiter: LogLimiter;
  readonly metrics: DaemonMetrics;
  readonly grant: (door: Door, grant: SpaGrant) => Promise<void>;
}

export function buildDatagramDoors(deps: DatagramDoorDeps): DatagramDoor[] {
  const doors = deps.config.doors.filter((d) => d.spa !== null || d.fwknop !== null);
  if (doors.length === 0) return [];
  if (deps.replay === null) throw new Error('SPA doors without a replay store (the composition root opens one)');
  const common = {
    replay: deps.replay,
    freshnessMs: deps.config.spa?.freshnessMs ?? DEFAULT_SPA_FRESHNESS_S * 1000,
    unixMs: () => deps.clock.unixMs(),
    log: deps.log,
    limiter: deps.limiter,
    grant: deps.grant,
    budget: new WorkBudget(SPA_UNPROVEN_WORK_PER_S, SPA_UNPROVEN_WORK_BURST),
    knownSources: new KnownSources(MAX_KNOWN_SPA_SOURCES, KNOWN_SPA_SOURCE_TTL_MS),
    nowMs: () => deps.clock.nowMs(),
  };
  const fwknopBudget = new WorkBudget(FWKNOP_UNPROVEN_HMACS_PER_S, FWKNOP_UNPROVEN_HMACS_BURST); // in HMACs, shared by the fwknop doors
  const gpg = doors.some((d) => d.fwknop?.stanzas.some((s) => s.gpg)) ? gpgDeps(common.knownSources) : undefined;
  const doorIds = doors.flatMap((d) => (d.spa ? [d.spa.doorId] : []));
  return doors.map((door) => {
    const listen = listenerOf(door) as NonNullable<ReturnType<typeof listenerOf>>;
    let handler: DatagramDoor['handler'];
    if (door.spa) {
      if (deps.serverKey === null) throw new Error('SPA doors without a server key (the config loader prevents this)');
      handler = new SpaHandler({
        ...common,
        door,
        counters: deps.metrics.datagramDoor(door.name, 'spa'),
        keys: serverKeysFromPrivate(deps.serverKey, door.spa.doorId, doorIds),
        previous: previousKeysOf(deps, door.spa.doorId, doorIds),
      });
    } else {
      handler = new FwknopHandler({
        ...common,
        door,
        counters: deps.metrics.datagramDoor(door.name, 'fwknop'),
        budget: fwknopBudget,
        ...(gpg ? { gpg } : {}),
      });
    }
    return { door, port: listen.port, capture: listen.capture, handler };
  });
}

/** The previous server key of a door, with the end of its overlap; null without key rotation. */
function previousKeysOf(deps: DatagramDoorDeps, doorId: string, doorIds: string[]): PreviousServerKeys | null {
  const until = deps.config.spa?.previousKeyUntilMs ?? null;
  if (!deps.previousServerKey || until === null) return null;
  return { keys: serverKeysFromPrivate(deps.previousServerKey, doorId, doorIds), untilUnixMs: until };
}

/**
 * What GnuPG stanzas share: the budget of gpg runs and their cap, and the decrypter, whose module
 * (and child_process use) is imported on the first GnuPG packet only.
 */
function gpgDeps(knownSources: KnownSources): NonNullable<FwknopHandlerDeps['gpg']> {
  let decrypter: Promise<GpgDecrypter> | undefined;
  return {
    allowance: {
      knownSources,
      budget: new WorkBudget(FWKNOP_UNPROVEN_GPG_PER_S, FWKNOP_UNPROVEN_GPG_BURST),
      runs: { active: 0, max: MAX_CONCURRENT_GPG },
    },
    decrypter: () => {
      decrypter ??= import('./gpg-decrypter.js').then((m) => new m.SystemGpgDecrypter());
      return decrypter;
    },
  };
}
