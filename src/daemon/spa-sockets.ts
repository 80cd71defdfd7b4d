/**
 * The UDP sockets of the doors in `socket` mode, one per port, kept across reloads: a reload that
 * keeps a door's port keeps its socket (no datagram is lost, and the port is never unbound for a
 * moment), one that adds a port opens it before anything else changes, one that drops a port
 * closes it once the new doors are in force.
 *
 * What must hold: prepare() either opens every new port or none (it closes what it opened and
 * throws); until commit() each datagram goes to the doors in force before; the kernel's delivery
 * figures of closed sockets are kept, so the counters never go back.
 */

import type { DatagramSource, DatagramSourceFactory } from '../ports/datagram-source.js';
import type { SourceStats } from '../ports/packet-source.js';
import { addStats } from './captures.js';
import type { DatagramDoor } from './datagram-doors.js';

/** A reload's sockets, opened but not yet in force. */
export interface PreparedSockets {
  /** The doors given to prepare() take their datagrams; sockets no door uses are closed. */
  commit(): void;
  /** The sockets prepare() opened are closed; the doors in force keep theirs. */
  abort(): void;
}

type Handler = DatagramDoor['handler'];

export class SpaSockets {
  private readonly open = new Map<number, DatagramSource>();
  private handlers = new Map<number, Handler>();
  private readonly closedTotals = { received: 0, dropped: 0 };

  constructor(private readonly factory: DatagramSourceFactory) {}

  /** Opens a socket for each socket door's port not open yet. Rejects (KG_CAPTURE_FAILED) having opened none. */
  async prepare(doors: readonly DatagramDoor[]): Promise<PreparedSockets> {
    const wanted = new Map(doors.filter((d) => d.capture === 'socket').map((d) => [d.port, d.handler] as const));
    const opened: number[] = [];
    try {
      for (const port of wanted.keys()) {
        if (this.open.has(port)) continue;
        this.open.set(port, await this.factory(port, (p, from, to) => this.handlers.get(port)?.handle(p, from, to)));
        opened.push(port);
      }
    } catch (err) {
      this.closePorts(opened);
      throw err;
    }
    return {
      commit: () => {
        this.handlers = wanted;
        this.closePorts([...this.open.keys()].filter((port) => !wanted.has(port)));
      },
      abort: () => this.closePorts(opened),
    };
  }

  /** What the kernel delivered and dropped over every socket so far; null if none was ever open. */
  stats(): SourceStats | null {
    const total = addStats({ ...this.closedTotals }, [...this.open.values()]);
    return this.open.size > 0 || total.received > 0 ? total : null;
  }

  close(): void {
    this.closePorts([...this.open.keys()]);
    this.handlers = new Map();
  }

  private closePorts(ports: readonly number[]): void {
    for (const port of ports) {
      const source = this.open.get(port);
      if (source === undefined) continue;
      this.open.delete(port);
      addStats(this.closedTotals, [source]);
      source.close();
    }
  }
}
