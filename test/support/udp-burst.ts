/**
 * Sends COUNT UDP datagrams to HOST:PORT as fast as the socket takes them, each from the same
 * source port, and prints one JSON line: { sent, ms }. `node udp-burst.js HOST PORT COUNT`.
 */

import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';

const [, , host = '', portText = '0', countText = '0'] = process.argv;
const count = Number(countText);
const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
const started = performance.now();
let sent = 0;
let pending = 0;
const payload = Buffer.from('burst');
const next = (): void => {
  while (sent < count && pending < 64) {
    pending++;
    sent++;
    socket.send(payload, Number(portText), host, () => {
      pending--;
      if (sent < count) next();
      else if (pending === 0) {
        process.stdout.write(`${JSON.stringify({ sent, ms: Math.round(performance.now() - started) })}\n`);
        socket.close();
      }
    });
  }
};
next();
