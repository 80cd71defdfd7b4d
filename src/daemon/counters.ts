/**
 * The running daemon's counters, and the one snapshot of them that `stats` log lines, tests and
 * (later) the metrics port read: event counters by name, plus what the sequence tracker, the
 * captures and the SPA sockets report, each under its own prefix.
 *
 * Contract: a counter only goes up, from zero, for the daemon's lifetime; the snapshot is a plain
 * object of numbers, names unchanged since they were first logged (operators' alerts read them).
 */

import type { SourceStats } from '../ports/packet-source.js';
import { addStats } from './captures.js';

export class Counters {
  private readonly byName = new Map<string, number>();

  /** Adds one to `name` (a bound function, so it can be handed to the parts that count). */
  readonly count = (name: string): void => {
    this.byName.set(name, (this.byName.get(name) ?? 0) + 1);
  };

  /** The event counters with the parts' own figures: sequences_*, capture_* (with captures), socket_* (with SPA sockets). */
  snapshot(parts: {
    readonly sequences: object;
    readonly capture: SourceStats | null;
    readonly sockets: readonly { stats?(): SourceStats }[];
  }): Record<string, number> {
    return {
      ...Object.fromEntries(this.byName),
      ...prefixed('sequences_', parts.sequences),
      ...(parts.capture !== null ? prefixed('capture_', parts.capture) : {}),
      ...(parts.sockets.length > 0 ? prefixed('socket_', addStats({ received: 0, dropped: 0 }, parts.sockets)) : {}),
    };
  }
}

function prefixed(prefix: string, o: object): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [prefix + k, v as number]));
}
