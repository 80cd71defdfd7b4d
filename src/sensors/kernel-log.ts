/**
 * The kernel-log sensor (`sensor: kernel-log`): the netfilter LOG lines the firewall writes for
 * the knock ports (knockgate's own `log prefix "P"` rule, or the operator's LOG rules), read from
 * /dev/kmsg, the journal or a followed file (line-source.ts), parsed by core/netfilter-log-line.ts.
 *
 * Contract (ports/parsed-packet-source.ts): only lines with the configured prefix are records
 * (`received` counts them); one the source says the kernel did not write is dropped
 * (`log-line-not-kernel`), as is one received on an interface that `interfaces:` does not list
 * (unless it is [any]). Packets have an empty payload: this sensor serves knock sequences only
 * (config/compile/sensor.ts refuses SPA doors read by capture with it). `dropped` in stats() is
 * what the source knows was lost (the /dev/kmsg ring overwritten before it was read).
 */

import type { KernelLogSource } from '../config/config.js';
import { parseLogLine } from '../core/netfilter-log-line.js';
import type {
  ParsedPacketHandlers,
  ParsedPacketSource,
  ParsedPacketSourceFactory,
} from '../ports/parsed-packet-source.js';
import { followJournal } from './journal.js';
import { openKmsg } from './kmsg.js';
import type { FaultHandler, LineSink, LineSource } from './line-source.js';
import { followLogFile } from './log-file.js';

export interface KernelLogOptions {
  readonly prefix: string;
  readonly source: KernelLogSource;
  /** `interfaces:`; [any] (or empty) accepts every interface. */
  readonly interfaces: readonly string[];
  /** A fault after start (logged by the daemon). */
  readonly fault: FaultHandler;
  /** Where /dev/kmsg is, and the journalctl to run (tests). */
  readonly kmsgPath?: string;
  readonly journalctl?: string;
}

export function kernelLogSourceFactory(o: KernelLogOptions): ParsedPacketSourceFactory {
  return {
    open(handlers: ParsedPacketHandlers): ParsedPacketSource {
      const any = o.interfaces.length === 0 || o.interfaces.includes('any');
      const accepted = new Set(o.interfaces);
      let received = 0;
      const sink: LineSink = (line, kernel) => {
        const r = parseLogLine(line, o.prefix, o.source.kind === 'file' ? 'syslog' : 'message');
        if (r.kind === 'other') return;
        received++;
        if (r.kind === 'dropped') handlers.dropped(r.reason);
        else if (!kernel) handlers.dropped('log-line-not-kernel');
        else if (!any && !accepted.has(r.inInterface)) handlers.dropped('log-line-other-interface');
        else handlers.packet(r.packet);
      };
      const source = openSource(o, sink);
      return {
        name: source.name,
        kind: 'kernel-log',
        stats: () => ({ received, dropped: source.lost() }),
        close: () => source.close(),
      };
    },
  };
}

function openSource(o: KernelLogOptions, sink: LineSink): LineSource {
  switch (o.source.kind) {
    case 'kmsg':
      return openKmsg(sink, o.fault, o.kmsgPath);
    case 'journal':
      return followJournal(sink, o.fault, o.journalctl);
    case 'file':
      return followLogFile(o.source.path, sink, o.fault);
  }
}
