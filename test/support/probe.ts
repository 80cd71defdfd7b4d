/**
 * Answers "what does this port look like from here?" the way a scanner would, and watches the
 * wire while it asks. Run inside a namespace:
 *
 *   node probe.js tcp HOST PORT TIMEOUT_MS
 *
 * Prints one JSON line: { outcome, banner?, replies } where outcome is
 *   open         connected, and the banner (if any) was read
 *   refused      a TCP RST came back (the port is closed, not filtered)
 *   unreachable  an ICMP error came back
 *   timeout      nothing came back within TIMEOUT_MS (filtered)
 * and `replies` lists every RST or ICMP packet libpcap saw from HOST meanwhile: for a filtered
 * port it must be empty.
 */

import { Socket } from 'node:net';
import { parseFrame } from '../../src/core/packet.js';
import { openCapture } from '../../src/sensors/pcap-binding.js';

const [, , proto, host, portText, timeoutText] = process.argv;
if (proto !== 'tcp' || !host || !portText) {
  process.stderr.write('usage: probe tcp HOST PORT TIMEOUT_MS\n');
  process.exit(64);
}
const port = Number(portText);
const timeoutMs = Number(timeoutText ?? 1000);
const replies: string[] = [];

const family = host.includes(':') ? 'ip6' : 'ip';
// TCP (RSTs are picked out below), ICMP errors (not echo replies), ICMPv6 errors (types < 128;
// neighbour discovery is 133-137 and is not an answer to the probe).
const cap = openCapture({
  device: 'any',
  filter: `${family} src host ${host} and (tcp or (icmp and icmp[icmptype] != icmp-echoreply) or (icmp6 and ip6[40] < 128))`,
  snaplen: 65535,
  bufferBytes: 1 << 20,
  promisc: false,
  batchBytes: 1 << 17,
  onFrame: (raw) => {
    const r = parseFrame(cap.linkType ?? 'linux-sll', raw);
    if (r.ok) {
      if (r.packet.proto === 'tcp' && (r.packet.tcpFlags & 0x04) !== 0)
        replies.push(`rst from ${r.packet.src}:${r.packet.sport}`);
    } else if (r.reason === 'transport-unsupported') {
      replies.push('icmp');
    }
  },
});

const socket = new Socket();
let banner = '';
let outcome = 'timeout';
const finish = (): void => {
  socket.destroy();
  // Give late RST/ICMP a moment to arrive before we stop watching.
  setTimeout(() => {
    cap.close();
    process.stdout.write(`${JSON.stringify({ outcome, banner: banner || undefined, replies })}\n`);
    process.exit(0);
  }, 100);
};
const timer = setTimeout(finish, timeoutMs);
socket.on('connect', () => {
  outcome = 'open';
});
socket.on('data', (d) => {
  banner += d.toString('utf8');
  if (banner.includes('\n')) {
    clearTimeout(timer);
    finish();
  }
});
socket.on('end', () => {
  clearTimeout(timer);
  finish();
});
socket.on('error', (err: NodeJS.ErrnoException) => {
  outcome =
    err.code === 'ECONNREFUSED'
      ? 'refused'
      : err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH'
        ? 'unreachable'
        : `error:${err.code}`;
  clearTimeout(timer);
  finish();
});
socket.connect({ host, port });
