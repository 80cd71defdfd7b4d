/**
 * The daemon's firewall-log sensors (ports/parsed-packet-source.ts: NFLOG, the kernel log): opened
 * once at start, before the firewall changes, and kept for the daemon's life (`sensor:` takes a
 * restart). Each packet goes to the doors in force when it arrives; a record that is not a usable
 * packet is counted by sensor and reason and logged, rate-limited like a dropped frame; what each
 * sensor received and lost is collected for the metrics and the `stats` line.
 *
 * What must hold: if one sensor fails to open, those opened before it are closed and the error
 * (KG_CAPTURE_FAILED) goes to the caller; nothing is delivered after close().
 */

import type { SensorDropReason } from '../core/reasons.js';
import type { DaemonMetrics } from '../metrics/daemon-metrics.js';
import type { SensorFigures } from '../metrics/daemon-state.js';
import type { Logger } from '../ports/logger.js';
import type { CounterChild } from '../ports/metrics.js';
import type {
  ParsedPacketHandler,
  ParsedPacketSource,
  ParsedPacketSourceFactory,
  SensorKind,
} from '../ports/parsed-packet-source.js';
import type { LogLimiter } from './log-limiter.js';

export class ParsedSensors {
  private open: ParsedPacketSource[] = [];
  private closed = false;
  private readonly dropCounters = new Map<string, CounterChild>();

  constructor(
    private readonly metrics: DaemonMetrics,
    private readonly limiter: LogLimiter,
    private readonly log: Logger,
  ) {}

  /** Opens every sensor; throws (leaving none open) when one cannot start. */
  start(factories: readonly ParsedPacketSourceFactory[], onPacket: ParsedPacketHandler): void {
    try {
      for (const f of factories) {
        let kind: SensorKind | null = null;
        const source = f.open({
          packet: (p) => {
            if (!this.closed) onPacket(p);
          },
          dropped: (reason) => {
            if (!this.closed && kind !== null) this.dropped(kind, reason);
          },
        });
        kind = source.kind;
        this.open.push(source);
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  names(): string[] {
    return this.open.map((s) => s.name);
  }

  /** What each open sensor reports (none open: empty, so no zeros read as "nothing arrived"). */
  figures(): SensorFigures[] {
    return this.open.map((s) => {
      const st = s.stats?.() ?? { received: 0, dropped: 0 };
      return { sensor: s.kind, received: st.received, lost: st.dropped };
    });
  }

  close(): void {
    this.closed = true;
    for (const s of this.open) s.close();
    this.open = [];
  }

  private dropped(sensor: SensorKind, reason: SensorDropReason): void {
    const key = `${sensor}|${reason}`;
    let counter = this.dropCounters.get(key);
    if (counter === undefined) {
      counter = this.metrics.sensorDropped(sensor, reason);
      this.dropCounters.set(key, counter);
    }
    counter.inc();
    const suppressed = this.limiter.admit(`sensor:${reason}`);
    if (suppressed !== null)
      this.log.info(
        { event: 'sensor-record-dropped', sensor, reason, suppressed: suppressed || undefined },
        'sensor record dropped',
      );
  }
}
