/**
 * The NFLOG sensor (`sensor: { nflog: { group: N } }`): knockgate's table sends the knock ports'
 * packets to NFLOG group N (`log group N`, gates/nftables-ruleset.ts), and libpcap's `nflog:N`
 * device reads them through our binding (pcap-binding.ts). Nothing is captured promiscuously,
 * and nothing but what the rule logs reaches user space. Each record is parsed by
 * core/nflog-record.ts; its IP packet by core/packet.ts.
 *
 * Contract (ports/parsed-packet-source.ts): a packet's payload is copied out of the reused batch
 * buffer before it is handed on. Only one listener may bind a group in a network namespace: when
 * another holds it, open() throws KG_CAPTURE_FAILED saying so (the kernel answers EPERM, which
 * libpcap reports as "Can't listen on group index"). stats(): `received` counts the records read,
 * `dropped` what the netlink socket lost to overruns (libpcap's ENOBUFS count).
 */

import { KnockgateError } from '../core/errors.js';
import { CAPTURE_BATCH_BYTES, CAPTURE_BUFFER_BYTES, CAPTURE_SNAPLEN_BYTES } from '../core/limits.js';
import { parseNflogRecord } from '../core/nflog-record.js';
import type { TransportPacket } from '../core/packet.js';
import type {
  ParsedPacketHandlers,
  ParsedPacketSource,
  ParsedPacketSourceFactory,
} from '../ports/parsed-packet-source.js';
import type { SourceStats } from '../ports/packet-source.js';
import { type Capture, openCapture } from './pcap-binding.js';

/** libpcap's DLT_NFLOG. */
export const DLT_NFLOG = 239;
/**
 * The record's own headers (4 bytes, the TLVs before the payload: prefix, interfaces, hardware
 * header, timestamp, about 100 bytes) come on top of the packet: room for the largest knock.
 */
const NFLOG_RECORD_OVERHEAD_BYTES = 256;

type Open = typeof openCapture;

export function nflogSourceFactory(group: number, open: Open = openCapture): ParsedPacketSourceFactory {
  return {
    open(handlers: ParsedPacketHandlers): ParsedPacketSource {
      const device = `nflog:${group}`;
      let records = 0;
      let capture: Capture;
      try {
        capture = open({
          device,
          filter: '',
          snaplen: CAPTURE_SNAPLEN_BYTES + NFLOG_RECORD_OVERHEAD_BYTES,
          bufferBytes: CAPTURE_BUFFER_BYTES,
          promisc: false,
          batchBytes: CAPTURE_BATCH_BYTES,
          onFrame: (frame) => {
            records++;
            const r = parseNflogRecord(frame);
            if (!r.ok) handlers.dropped(r.reason);
            else handlers.packet(ownPacket(r.record.packet));
          },
        });
      } catch (err) {
        throw groupError(group, err as Error);
      }
      if (capture.dlt !== DLT_NFLOG) {
        capture.close();
        throw new KnockgateError('KG_CAPTURE_FAILED', `${device} has link type DLT ${capture.dlt}, not NFLOG (239)`);
      }
      let last: SourceStats = { received: 0, dropped: 0 };
      let closed = false;
      return {
        name: device,
        kind: 'nflog',
        stats: () => {
          if (!closed) last = { received: records, dropped: capture.stats().dropped };
          return last;
        },
        close: () => {
          if (closed) return;
          last = { received: records, dropped: capture.stats().dropped };
          closed = true;
          capture.close();
        },
      };
    },
  };
}

/** The packet with a payload of its own (the record is a view into the binding's batch buffer). */
function ownPacket(p: TransportPacket): TransportPacket {
  return { ...p, payload: Uint8Array.from(p.payload) };
}

/** The binding's error, made to say what an operator can do about it. */
function groupError(group: number, err: Error): KnockgateError {
  const held = /listen on group|Operation not permitted|EPERM|Device or resource busy/i.test(err.message);
  const message = held
    ? `NFLOG group ${group} is already bound by another listener in this network namespace (ulogd, another knockgated, a tcpdump of nflog:${group}), or knockgated lacks CAP_NET_ADMIN; only one listener may hold a group: stop the other or choose another group (sensor: { nflog: { group: N } }). libpcap said: ${err.message}`
    : `cannot read NFLOG group ${group}: ${err.message}`;
  return new KnockgateError('KG_CAPTURE_FAILED', message, { cause: err });
}
