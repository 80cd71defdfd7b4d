/**
 * SPA helpers for integration tests, each run inside a namespace:
 *
 *   capture PORT TIMEOUT_MS            print the payload (hex) of the first UDP datagram to PORT that
 *                                      libpcap sees, as an eavesdropper would record it
 *   send HOST PORT HEX                 send those exact bytes again (a replay)
 *   build CREDENTIAL SKEW_MS [JSON]    print a datagram built by the real client code, its timestamp
 *                                      shifted by SKEW_MS; JSON may set ports/durationS/prefix
 */

import { buildSpaDatagram, sendDatagram } from '../../src/client/spa-sender.js';
import { parseFrame } from '../../src/core/packet.js';
import { openCapture } from '../../src/sensors/pcap-binding.js';
import { readClientCredential } from '../../src/stores/key-files.js';

const [, , command, ...args] = process.argv;

if (command === 'capture') {
  const [port, timeout] = args.map(Number) as [number, number];
  const timer = setTimeout(() => process.exit(3), timeout);
  const cap = openCapture({
    device: 'any',
    filter: `udp dst port ${port}`,
    snaplen: 65535,
    bufferBytes: 1 << 20,
    promisc: false,
    batchBytes: 1 << 17,
    onFrame: (frame) => {
      const r = parseFrame(cap.linkType ?? 'linux-sll', frame);
      if (r.ok && r.packet.proto === 'udp' && r.packet.dport === port) {
        clearTimeout(timer);
        process.stdout.write(`${Buffer.from(r.packet.payload).toString('hex')}\n`);
        cap.close();
        process.exit(0);
      }
    },
  });
  process.stdout.write('ready\n');
} else if (command === 'send') {
  const [host, port, hex] = args as [string, string, string];
  await sendDatagram(host, host.includes(':') ? 6 : 4, Number(port), Buffer.from(hex, 'hex'));
} else if (command === 'build') {
  const [file, skew, json] = args as [string, string, string | undefined];
  const extra = (json ? JSON.parse(json) : {}) as {
    ports?: { proto: 'tcp' | 'udp'; port: number }[];
    durationS?: number;
    prefix?: number;
  };
  const cred = readClientCredential(file);
  const datagram = buildSpaDatagram(
    cred,
    { ports: extra.ports ?? [], durationS: extra.durationS ?? 0, address: null, prefix: extra.prefix ?? 0 },
    Date.now() + Number(skew),
  );
  process.stdout.write(`${Buffer.from(datagram).toString('hex')}\n`);
} else {
  process.stderr.write('usage: spa-tool capture|send|build ...\n');
  process.exit(64);
}
