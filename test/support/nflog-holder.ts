/**
 * Binds NFLOG group N in the namespace it runs in and holds it until killed, as ulogd or a
 * `tcpdump -i nflog:N` would: `ip netns exec NS node nflog-holder.js N`. Prints `holding` once bound.
 */

import { openCapture } from '../../src/sensors/pcap-binding.js';

const group = Number(process.argv[2]);
openCapture({
  device: `nflog:${group}`,
  filter: '',
  snaplen: 1500,
  bufferBytes: 1 << 20,
  promisc: false,
  batchBytes: 1 << 17,
  onFrame: () => undefined,
});
process.stdout.write('holding\n');
setInterval(() => undefined, 60_000);
